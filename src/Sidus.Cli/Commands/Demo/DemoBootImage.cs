using Sidus.Artifacts.Versions;
using Sidus.Store.Objects;

namespace Sidus.Cli.Commands.Demo;

/// <summary>
/// What makes the demo image bootable: a kernel, systemd as init, and udev. A fresh demo build includes them; a store
/// that holds an older (minbase-only) demo image gets them installed with an image exec, as a new version.
/// </summary>
internal static class DemoBootImage
{
    /// <summary>The Debian packages a network-booted node needs (the cloud kernel: small, virtio drivers built in).</summary>
    public static readonly IReadOnlyList<string> Packages = ["linux-image-cloud-amd64", "systemd-sysv", "udev"];

    private const string SystemdPath = "/lib/systemd/systemd";

    /// <summary>What the version lacks to boot, or null when it has a kernel and systemd.</summary>
    public static string? Missing(Repository repository, ObjectId version)
    {
        var files = new VersionFiles(repository, repository.ReadCommit(version));
        var kernel = (files.List("/boot") ?? []).Any(e => e.Name.AsSpan().StartsWith("vmlinuz-"u8));
        var systemd = files.TryResolve(SystemdPath, out _, out _);
        return (kernel, systemd) switch
        {
            (true, true) => null,
            (false, true) => "a kernel",
            (true, false) => "systemd",
            _ => "a kernel and systemd",
        };
    }

    /// <summary>The chroot command that installs <see cref="Packages"/> (without recommends: the image stays small).</summary>
    public static IReadOnlyList<string> InstallCommand() =>
    [
        "/bin/sh", "-c",
        "export DEBIAN_FRONTEND=noninteractive && apt-get update -q && apt-get install -y -q --no-install-recommends "
            + string.Join(' ', Packages) + " && apt-get clean",
    ];
}
