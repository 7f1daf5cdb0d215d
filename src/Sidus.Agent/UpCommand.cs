using Sidus.Agent.Boot;
using Sidus.Agent.Fetch;

namespace Sidus.Agent;

/// <summary>
/// "report up", run by the booted system's sidus-up unit: the <see cref="UpReport"/> (identity and memory from this
/// system's files, how its root is made from <see cref="NodeFacts"/>) sent as the "up" event, read by `sidus node
/// status`.
/// </summary>
internal static class UpCommand
{
    public static async Task<int> RunAsync()
    {
        var report = NodeFacts.Add(Collect(KernelCommandLine.Read(), "/"));
        var code = await AgentMain.ReportAsync(new NodeEvent(NodeEventStages.Up, report.Detail()) { Up = report });
        // Boot is over: ram mode's copy into RAM may start (Boot/RamCopy.cs).
        if (Directory.Exists(Path.GetDirectoryName(RamCopy.UpFile)))
        {
            await File.WriteAllTextAsync(RamCopy.UpFile, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture) + "\n");
        }

        return code;
    }

    /// <summary>Identity and memory as the files under ROOT say (a missing file leaves its fields out).</summary>
    public static UpReport Collect(AgentKernelArguments line, string root)
    {
        var meminfo = Read(Path.Combine(root, "proc/meminfo"));
        return new UpReport
        {
            Host = Read(Path.Combine(root, "proc/sys/kernel/hostname")),
            Image = line.Image,
            ImageRef = line.ImageRef,
            MachineId = Read(Path.Combine(root, "etc/machine-id")),
            SshEd25519 = Read(Path.Combine(root, "etc/ssh/ssh_host_ed25519_key.pub")) is { } pub ? Fingerprint(pub) : null,
            MemTotalKib = meminfo is null ? null : MeminfoKib(meminfo, "MemTotal"),
            MemAvailableKib = meminfo is null ? null : MeminfoKib(meminfo, "MemAvailable"),
            ShmemKib = meminfo is null ? null : MeminfoKib(meminfo, "Shmem"),
        };
    }

    /// <summary>A /proc/meminfo field in KiB ("MemTotal:  2048000 kB"), or null.</summary>
    public static long? MeminfoKib(string meminfo, string field)
    {
        foreach (var l in meminfo.Split('\n'))
        {
            if (l.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var parts = l[(field.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib : null;
            }
        }

        return null;
    }

    /// <summary>"SHA256:..." of an OpenSSH public key line, as ssh-keygen -l prints it.</summary>
    public static string? Fingerprint(string publicKeyLine)
    {
        var parts = publicKeyLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2)
        {
            return null;
        }

        try
        {
            return "SHA256:" + Convert.ToBase64String(Sha256.Hash(Convert.FromBase64String(parts[1]))).TrimEnd('=');
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path, Encoding.UTF8).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
