using System.Globalization;
using Sidus.Artifacts.Initramfs;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// The QEMU command line the diskless boot tests share: tcg in the namespace, no display or monitor, no reboot (a
/// reboot ends QEMU), the image's kernel and the Sidus initramfs given directly (no firmware network boot), an RNG,
/// and the first serial port (the console, ttyS0) into a file. Callers add the NICs and anything else.
/// </summary>
internal static class DirectBootVm
{
    public const int MemoryMiB = 1536;

    /// <summary>
    /// One virtual CPU. Under tcg two vCPUs bought no speed on the 2-core test machines (a shared-boot test class ran
    /// 3.0 min with two, 2.9-3.1 with one) and once wedged a guest in CI: a soft lockup of CPU 1 in the network
    /// softirq, the NBD reads stuck for minutes. One vCPU runs QEMU's single-threaded tcg, which has no such race.
    /// </summary>
    public const string Cpus = "1";

    public static List<string> Command(NetworkNamespace ns, AgentBootFiles boot, string append, string serialLog, int memoryMiB = MemoryMiB) =>
    [
        "netns", "exec", ns.Name, Tool.Require("qemu-system-x86_64", "qemu-system-x86"),
        "-accel", "tcg", "-m", memoryMiB.ToString(CultureInfo.InvariantCulture), "-smp", Cpus, "-display", "none", "-monitor", "none", "-no-reboot",
        "-kernel", boot.KernelPath, "-initrd", boot.InitramfsPath, "-append", append,
        "-device", "virtio-rng-pci", "-serial", "file:" + serialLog,
    ];

    /// <summary>A virtio NIC on TAP (in the namespace QEMU runs in) with MAC.</summary>
    public static string[] Nic(string id, string tap, string mac) =>
        ["-netdev", $"tap,id={id},ifname={tap},script=no,downscript=no", "-device", $"virtio-net-pci,netdev={id},mac={mac}"];

    /// <summary>A locally administered MAC in QEMU's range, random so that parallel runs never share one.</summary>
    public static string RandomMac() =>
        "52:54:00:" + string.Join(':', Guid.NewGuid().ToByteArray()[..3].Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
}
