namespace Sidus.Server.Tests;

/// <summary>The smallest image tree a Sidus initramfs can be made from: a kernel file, empty module lists, the host's C library.</summary>
public static class BootableRoot
{
    public const string Release = "6.1.0-18-amd64";

    public static async Task WriteAsync(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "boot"));
        Directory.CreateDirectory(Path.Combine(root, "lib", "modules", Release));
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllBytesAsync(Path.Combine(root, "boot", "vmlinuz-" + Release), Random(200_000));
        await File.WriteAllTextAsync(Path.Combine(root, "lib", "modules", Release, "modules.dep"), "");
        await File.WriteAllTextAsync(Path.Combine(root, "lib", "modules", Release, "modules.alias"), "");
        foreach (var library in Sidus.Artifacts.Initramfs.InitramfsBuilder.AgentLibraries)
        {
            var target = Path.Combine(root, library.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(library, target);
        }
    }

    /// <summary>
    /// The boot script FETCH answers once it names a kernel: while a version's Sidus initramfs is being made the server
    /// answers "preparing, ask again" (asked again here each second, at most a minute, as iPXE would).
    /// </summary>
    public static string ScriptWhenReady(Func<string> fetch)
    {
        var script = fetch();
        for (var attempt = 0; attempt < 60 && !script.Contains("\nkernel ", StringComparison.Ordinal); attempt++)
        {
            Thread.Sleep(TimeSpan.FromSeconds(1));
            script = fetch();
        }

        return script;
    }

    public static byte[] Random(int length)
    {
        var bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
