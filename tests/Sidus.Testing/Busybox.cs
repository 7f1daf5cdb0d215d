namespace Sidus.Testing;

/// <summary>The host's busybox in a root tree a chroot can run: the program, the applets that name it, and the
/// libraries it loads. The caller makes the tree's other directories and files.</summary>
public static class Busybox
{
    /// <summary>Copies the host's busybox to bin/busybox under <paramref name="root"/>, links each of
    /// <paramref name="applets"/> to it in bin, and copies each library ldd names for it to the same path under the
    /// root. A static busybox (busybox-static) loads none: ldd says "not a dynamic executable" and fails, which is
    /// accepted; any other failure of ldd throws (the tree would not run).</summary>
    public static void CopyInto(string root, IEnumerable<string> applets)
    {
        var busybox = Tool.Require("busybox", "busybox");
        var bin = Path.Combine(root, "bin");
        Directory.CreateDirectory(bin);
        File.Copy(busybox, Path.Combine(bin, "busybox"));
        foreach (var applet in applets)
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");

        var ldd = ProcessRunner.Run(Tool.Require("ldd", "libc-bin"), [busybox]);
        if (!ldd.Succeeded && !ldd.StandardError.Contains("not a dynamic executable", StringComparison.Ordinal))
            throw new InvalidOperationException($"'ldd {busybox}' failed: {ldd}");
        foreach (var line in ldd.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
            var path = (line.Contains("=>", StringComparison.Ordinal) ? line.Split("=>")[1].Trim() : line).Split(' ')[0];
            if (!path.StartsWith('/'))
                continue;
            var target = Path.Combine(root, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(path, target);
        }
    }
}
