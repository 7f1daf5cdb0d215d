namespace Sidus.Nodes;

/// <summary>A group (profile): settings its member nodes inherit.</summary>
public sealed record Group
{
    public const int MaxDescriptionLength = 1024;

    public required string Name { get; init; }

    public string? Description { get; init; }

    public NodeSettings Settings { get; init; } = NodeSettings.Empty;

    public long Revision { get; init; }

    public Group Validated()
    {
        var name = Names.Label(Name, "group");
        if (Description is { Length: > MaxDescriptionLength })
        {
            Throw.Invalid($"group '{name}' has a description longer than {MaxDescriptionLength} characters");
        }

        if (Description is not null && Description.Any(char.IsControl))
        {
            Throw.Invalid($"group '{name}' has a control character in its description");
        }

        return this with { Name = name, Settings = Settings.Validated() };
    }
}
