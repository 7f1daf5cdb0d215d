using System.Net.Sockets;

namespace Sidus.Linux;

/// <summary>A process that has a socket open: its id, its name (/proc/PID/comm) and its command line.</summary>
public sealed record PortHolder(int Pid, string Name, string CommandLine)
{
    /// <summary>Command lines are cut here in messages: enough to tell two servers apart, however long their paths.</summary>
    private const int ShownCommandLine = 240;

    /// <summary>"dnsmasq (pid 1234: dnsmasq --interface=br0 ...)", for one line of an error message.</summary>
    public override string ToString()
    {
        var pid = Pid.ToString(CultureInfo.InvariantCulture);
        if (CommandLine.Length == 0)
        {
            return $"{Name} (pid {pid})";
        }

        var shown = CommandLine.Length > ShownCommandLine ? CommandLine[..(ShownCommandLine - 3)] + "..." : CommandLine;
        return $"{Name} (pid {pid}: {shown})";
    }
}

/// <summary>
/// Who holds a local port, found the way <c>ss -p</c> finds it: the socket's inode in the kernel's table for the
/// calling thread's network namespace (/proc/thread-self/net/udp, tcp and their IPv6 twins), then the process whose
/// /proc/PID/fd has a link to that socket. Seeing other users' descriptors needs root (as binding a DHCP port does);
/// without it, or for a holder in another PID namespace, the port is known to be taken but nobody is named.
/// </summary>
public static class PortHolders
{
    private const int LocalAddressField = 1;
    private const int StateField = 3;
    private const int InodeField = 9;

    /// <summary>The state column of a listening TCP socket (TCP_LISTEN).</summary>
    private const string TcpListen = "0A";

    /// <summary>The processes holding <paramref name="port"/> (UDP: any socket bound to it; TCP: a listener on it),
    /// each once, in process-id order; empty when none can be named.</summary>
    public static IReadOnlyList<PortHolder> Find(ProtocolType protocol, int port)
    {
        var name = protocol switch
        {
            ProtocolType.Udp => "udp",
            ProtocolType.Tcp => "tcp",
            _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "only UDP and TCP ports have holders"),
        };
        var inodes = new HashSet<long>();
        foreach (var table in new[] { name, name + "6" })
        {
            var text = ReadOrNull($"/proc/thread-self/net/{table}");
            if (text is not null)
            {
                inodes.UnionWith(SocketInodes(text, port, listenersOnly: protocol == ProtocolType.Tcp));
            }
        }

        return inodes.Count == 0 ? [] : ProcessesWith(inodes);
    }

    /// <summary>The holders of <paramref name="port"/> for a message ("sidus (pid 1234: ...)"), or null when none can be named.</summary>
    public static string? Describe(ProtocolType protocol, int port)
    {
        var holders = Find(protocol, port);
        return holders.Count == 0 ? null : string.Join(" and ", holders);
    }

    /// <summary>The inodes of the sockets bound to <paramref name="port"/> in one /proc/net table's text.</summary>
    public static IEnumerable<long> SocketInodes(string table, int port, bool listenersOnly)
    {
        foreach (var row in table.Split('\n').Skip(1))
        {
            var fields = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length <= InodeField || Port(fields[LocalAddressField]) != port)
            {
                continue;
            }

            if (listenersOnly && fields[StateField] != TcpListen)
            {
                continue;
            }

            // A socket being torn down has inode 0: nobody holds it any more.
            if (long.TryParse(fields[InodeField], NumberStyles.None, CultureInfo.InvariantCulture, out var inode) && inode != 0)
            {
                yield return inode;
            }
        }
    }

    private static int? Port(string address)
    {
        var colon = address.LastIndexOf(':');
        return colon >= 0 && int.TryParse(address.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port) ? port : null;
    }

    private static List<PortHolder> ProcessesWith(HashSet<long> inodes)
    {
        var targets = inodes.Select(i => $"socket:[{i.ToString(CultureInfo.InvariantCulture)}]").ToHashSet(StringComparer.Ordinal);
        var holders = new List<PortHolder>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !HasAny(directory, targets))
            {
                continue;
            }

            var comm = ReadOrNull(Path.Combine(directory, "comm"))?.TrimEnd('\n') ?? "?";
            var cmdline = ReadOrNull(Path.Combine(directory, "cmdline"))?.TrimEnd('\0').Replace('\0', ' ') ?? string.Empty;
            holders.Add(new PortHolder(pid, comm, cmdline));
        }

        holders.Sort((a, b) => a.Pid.CompareTo(b.Pid));
        return holders;
    }

    /// <summary>True when one of the process's descriptors is one of the sockets. A process that ends meanwhile, or
    /// whose descriptors this user may not see, holds none.</summary>
    private static bool HasAny(string processDirectory, HashSet<string> sockets)
    {
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(processDirectory, "fd")))
            {
                if (new FileInfo(fd).LinkTarget is { } target && sockets.Contains(target))
                {
                    return true;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        return false;
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
