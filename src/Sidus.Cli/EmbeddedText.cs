namespace Sidus.Cli;

/// <summary>Text files built into the sidus binary (Sidus.Cli.csproj's EmbeddedResource items).</summary>
internal static class EmbeddedText
{
    /// <summary>The resource's text; a missing one is a build mistake, never a user's.</summary>
    public static string Read(string name)
    {
        using var stream = typeof(EmbeddedText).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in the sidus binary (Sidus.Cli.csproj)");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
