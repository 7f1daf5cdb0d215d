namespace Sidus.Linux;

/// <summary>
/// Who may read a Sidus data directory. It holds every image's files (root's password hashes included), the exports
/// built from them, the inventory and the nodes' secrets, so it is root's alone (0700), or also a group the admin
/// chose (02750: the setgid bit makes what is created inside belong to that group too). The directory itself is the
/// gate: made with its mode from the start, and an existing one that others could enter is closed when it is opened.
/// A group once set on the directory is the setting every later opener keeps (the CLI does not read sidus.toml).
/// </summary>
public static class HomeAccess
{
    public const uint OwnerOnly = 0x1C0; // 0700

    public const uint OwnerAndGroup = 0x5E8; // 02750

    private const uint SetGroupId = 0x400; // 02000

    private const uint GroupBits = 0x38; // 0070

    private const uint OtherBits = 0x7; // 0007

    /// <summary>
    /// Makes <paramref name="home"/> (and its parents) if missing, with the mode above from the start; closes an
    /// existing one that is open to others; with <paramref name="group"/>, gives it to that group. Returns what was
    /// changed on an existing directory, for the caller to say once, or null. A caller who may not enter the
    /// directory gets an <see cref="UnauthorizedAccessException"/> saying who may and what to do.
    /// </summary>
    public static string? Secure(string home, string? group = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(home);
        home = Path.GetFullPath(home);
        var gid = group is null ? (uint?)null : GroupId(group);
        var (parentPath, name) = Split(home);
        Directory.CreateDirectory(parentPath);
        using var parent = DirectoryHandle.Open(parentPath);
        var created = false;
        if (!parent.TryStat(name, out var status, out var errno))
        {
            if (errno != Errno.ENOENT)
            {
                throw new LinuxException(errno, "stat", home);
            }

            try
            {
                parent.CreateDirectory(name, OwnerOnly);
                created = true;
            }
            catch (LinuxException e) when (e.Errno == Errno.EEXIST)
            {
                // Made by another process just now: judged below like any existing one.
            }

            status = parent.Stat(name);
        }

        if (status.Kind != FileKind.Directory)
        {
            throw new IOException($"{home} is not a directory: give --home a directory for Sidus's data");
        }

        if (!FileOps.IsRoot && status.Uid != Libc.geteuid())
        {
            RequireEntry(home, status);
            return null;
        }

        var mode = status.Permissions & 0xFFF;
        var wanted = gid is not null || (mode & SetGroupId) != 0 && status.Gid != 0
            ? (mode & ~OtherBits) | (gid is null ? 0 : OwnerAndGroup)
            : mode & ~(GroupBits | OtherBits);
        if (gid is { } g && status.Gid != g)
        {
            parent.SetOwner(name, uint.MaxValue, g);
        }

        if (wanted != mode)
        {
            parent.SetPermissions(name, wanted);
        }

        if (created || wanted == mode && (gid is null || status.Gid == gid))
        {
            return null;
        }

        return $"the Sidus data directory {home} was mode {Octal(mode)}{(gid is { } x && status.Gid != x ? $" (group {status.Gid})" : "")}: "
            + $"now {Octal(wanted)}{(group is null ? ", root only" : $", group {group}")}";
    }

    /// <summary>The gid of <paramref name="group"/> from /etc/group; a clear error when there is no such group.</summary>
    public static uint GroupId(string group)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == group && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                return gid;
            }
        }

        throw new IOException($"there is no group '{group}' on this machine: make it first (groupadd {group}), then add its users (usermod -aG {group} USER)");
    }

    /// <summary>Throws the clear refusal when this (non-owner) process cannot enter <paramref name="home"/>.</summary>
    private static void RequireEntry(string home, FileStatus status)
    {
        try
        {
            using var probe = DirectoryHandle.Open(home);
            probe.ReadEntries();
        }
        catch (LinuxException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
        {
            var who = (status.Permissions & GroupBits) != 0 ? $"root and group {status.Gid}" : "root only";
            throw new UnauthorizedAccessException(
                $"the Sidus data directory {home} is {who} (mode {Octal(status.Permissions & 0xFFF)}): run sidus as root (sudo), "
                + "or ask the admin to set group = NAME in sidus.toml and add you to that group", e);
        }
    }

    private static (string Parent, byte[] Name) Split(string path)
    {
        var parent = Path.GetDirectoryName(path) ?? "/";
        return (parent, Encoding.UTF8.GetBytes(Path.GetFileName(path)));
    }

    private static string Octal(uint mode) => "0" + Convert.ToString(mode, 8);
}
