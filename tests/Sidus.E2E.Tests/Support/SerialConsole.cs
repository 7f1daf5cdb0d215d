using System.Text.RegularExpressions;

namespace Sidus.E2E.Tests.Support;

/// <summary>What a VM wrote on its serial console: the file QEMU appends to, read while it grows.</summary>
public static partial class SerialConsole
{
    /// <summary>
    /// The console so far, colour and cursor escapes removed; empty before QEMU made the file. Throws
    /// <see cref="EmulatorFaultException"/> once the guest says its emulated network card stopped sending.
    /// </summary>
    public static string Read(string path)
    {
        var text = AnsiEscape().Replace(ReadGrowing(path), string.Empty);
        EmulatorFaultException.ThrowIfReported(text);
        return text;
    }

    /// <summary>A file another process is still writing (a log), as it is now; empty before it exists.</summary>
    public static string ReadGrowing(string path)
    {
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    [GeneratedRegex("\x1b\\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();
}
