namespace Sidus.Agent.Boot;

/// <summary>
/// switch_root: moves /proc, /sys, /dev and /run into the new root, frees the initramfs's files (their RAM is
/// otherwise lost for good), makes the new root "/" and execs its init. Returns only by throwing.
/// </summary>
internal static class RootSwitch
{
    private static readonly string[] Moved = ["/proc", "/sys", "/dev", "/run"];

    public static void Switch(string newRoot, string init)
    {
        if (!File.Exists(newRoot + init) && !Directory.Exists(Path.GetDirectoryName(newRoot + init)))
        {
            throw new IOException($"the new root has no {init}");
        }

        foreach (var mount in Moved)
        {
            Directory.CreateDirectory(newRoot + mount);
            Mounts.Move(mount, newRoot + mount);
        }

        FreeInitramfs(newRoot);
        ProcessRoot.ChangeDirectory(newRoot);
        Mounts.Move(".", "/");
        ProcessRoot.ChangeRoot(".");
        ProcessRoot.ChangeDirectory("/");
        ProcessRoot.Exec(init, [init]);
    }

    /// <summary>Removes the initramfs's own files; never crosses into the new root or the moved mounts.</summary>
    private static void FreeInitramfs(string newRoot)
    {
        var keep = Encoding.UTF8.GetBytes(newRoot.TrimStart('/'));
        using var root = DirectoryHandle.Open("/");
        foreach (var entry in root.ReadEntries())
        {
            if (entry.Name.AsSpan().SequenceEqual(keep) || Moved.Any(m => entry.Name.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(m.TrimStart('/')))))
            {
                continue;
            }

            try
            {
                root.RemoveTree(entry.Name);
            }
            catch (IOException e)
            {
                AgentConsole.Say($"could not free /{LinuxException.Printable(entry.Name)} of the initramfs: {e.Message}");
            }
        }
    }
}
