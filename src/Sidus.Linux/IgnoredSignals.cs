using System.Globalization;

namespace Sidus.Linux;

/// <summary>
/// Which signals this process ignores, as the kernel says (/proc/self/status, SigIgn). A program started by nohup,
/// or by a shell as a background job, inherits SIGHUP or SIGINT ignored, and the .NET runtime keeps them so: a
/// handler registered for one of them is never called.
/// </summary>
public static class IgnoredSignals
{
    public const int SigHup = 1;

    public static bool Contains(int signal) => Contains(File.ReadAllText("/proc/self/status"), signal);

    /// <summary>Whether STATUS (the text of /proc/PID/status) has SIGNAL in its SigIgn mask.</summary>
    public static bool Contains(string status, int signal)
    {
        ArgumentNullException.ThrowIfNull(status);
        var line = status.Split('\n').FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && ulong.TryParse(line[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask) &&
            (mask & (1UL << (signal - 1))) != 0;
    }
}
