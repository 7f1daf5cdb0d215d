using System.Globalization;
using System.Text;
using Sidus.Agent.Boot;
using Sidus.Agent.Fetch;

namespace Sidus.Agent;

/// <summary>
/// The "up" report of the booted system (the sidus-up unit runs "agent report up"): one line of KEY=VALUE words
/// after the marker, read by `sidus node status`: host, image (version id), imageref, machine-id, ssh-ed25519 (the
/// host key's SHA256 fingerprint), and mem-total-kib, mem-available-kib, shmem-kib from /proc/meminfo (RAM used by
/// the node; in ram mode the root lives in shmem).
/// </summary>
internal static class UpReport
{
    /// <summary>Identity and memory, then how the root is made and how many times it has booted (<see cref="NodeFacts"/>).</summary>
    public static async Task<int> RunAsync()
    {
        var code = await AgentMain.ReportAsync("up", Detail(KernelCommandLine.Read(), "/") + " " + NodeFacts.Describe());
        // Boot is over: ram mode's copy into RAM may start (Boot/RamCopy.cs).
        if (Directory.Exists(Path.GetDirectoryName(RamCopy.UpFile)))
        {
            await File.WriteAllTextAsync(RamCopy.UpFile, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture) + "\n");
        }

        return code;
    }

    public static string Detail(KernelCommandLine line, string root)
    {
        var words = new List<string> { Overrides.UpMarker };
        void Add(string key, string? value)
        {
            if (value is { Length: > 0 } && !value.Any(char.IsWhiteSpace))
            {
                words.Add(key + "=" + value);
            }
        }

        Add("host", Read(Path.Combine(root, "proc/sys/kernel/hostname")));
        Add("image", line.Image);
        Add("imageref", line["sidus.imageref"]);
        Add("machine-id", Read(Path.Combine(root, "etc/machine-id")));
        Add("ssh-ed25519", Read(Path.Combine(root, "etc/ssh/ssh_host_ed25519_key.pub")) is { } pub ? Fingerprint(pub) : null);
        if (Read(Path.Combine(root, "proc/meminfo")) is { } meminfo)
        {
            foreach (var (field, key) in new[] { ("MemTotal", "mem-total-kib"), ("MemAvailable", "mem-available-kib"), ("Shmem", "shmem-kib") })
            {
                Add(key, MeminfoKib(meminfo, field)?.ToString(CultureInfo.InvariantCulture));
            }
        }

        return string.Join(' ', words);
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
