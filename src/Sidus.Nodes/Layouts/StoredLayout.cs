namespace Sidus.Nodes.Layouts;

/// <summary>
/// One revision of a disk layout stored in the inventory (`sidus layout set`, `layouts:` in `sidus apply`): its
/// YAML text as given, when it was stored, and how many revisions the layout has. The latest revision is the one
/// nodes are installed with.
/// </summary>
public sealed class StoredLayout(string name, long revision, string text, DateTimeOffset at, long revisions)
{
    /// <summary>Longest text stored (a layout of a hundred items is about 8 KiB).</summary>
    public const int MaxTextLength = 32 * 1024;

    private Layout? _parsed;

    public string Name { get; } = name;

    public long Revision { get; } = revision;

    public string Text { get; } = text;

    public DateTimeOffset At { get; } = at;

    /// <summary>How many revisions the layout has (its history, `sidus layout show NAME --revision N`).</summary>
    public long Revisions { get; } = revisions;

    /// <summary>"layout NAME revision N": where errors of the stored text say they are.</summary>
    public string Source => $"layout {Name} revision {Revision}";

    /// <summary>
    /// The text read as a <see cref="Layout"/> (read once, then kept). It was checked when stored; a later sidus
    /// with stricter rules may still refuse it, with a <see cref="LayoutException"/> naming the line.
    /// </summary>
    public Layout Parse() => _parsed ??= LayoutYaml.Parse(Text, Source);

    /// <summary>
    /// Checks TEXT before it is stored: the same checks as `sidus layout check` (errors name SOURCE, the line and
    /// the field), and a size limit. Returns the layout read.
    /// </summary>
    public static Layout Check(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength)
        {
            throw new InventoryException(InventoryErrorKind.Invalid, $"{source}: a layout is at most {MaxTextLength} characters, this one has {text.Length}");
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new InventoryException(InventoryErrorKind.Invalid, $"{source}: a layout is text, this one has a NUL character");
        }

        try
        {
            return LayoutYaml.Parse(text, source);
        }
        catch (LayoutException e)
        {
            throw new InventoryException(InventoryErrorKind.Invalid, e.Message, e);
        }
    }
}
