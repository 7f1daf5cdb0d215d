namespace Sidus.Nodes;

/// <summary>
/// Text that came from the network (an event's detail, a host name, a fingerprint) made safe to store and show:
/// control characters (C0, DEL, C1: terminal escape sequences start with them) and invisible format characters
/// (bidirectional overrides, zero-width marks) become '?', line breaks and tabs a space. One definition, used where
/// events enter the inventory and again where they are shown.
/// </summary>
public static class EventText
{
    public static string? Clean(string? text)
    {
        if (text is null || !text.Any(IsUnsafe))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c is '\n' or '\r' or '\t' ? ' ' : IsUnsafe(c) ? '?' : c;
            }
        });
    }

    /// <summary>The "up" report with each of its text fields cleaned.</summary>
    public static UpReport? Clean(UpReport? up) => up is null ? null : up with
    {
        Host = Clean(up.Host),
        Image = Clean(up.Image),
        ImageRef = Clean(up.ImageRef),
        MachineId = Clean(up.MachineId),
        SshEd25519 = Clean(up.SshEd25519),
        Root = Clean(up.Root),
        Lower = Clean(up.Lower),
        Upper = Clean(up.Upper),
    };

    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
