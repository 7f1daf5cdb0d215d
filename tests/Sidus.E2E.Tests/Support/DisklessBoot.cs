using System.Diagnostics;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// One diskless boot: a namespace, the image server and dnsmasq (DHCP only) in it, and a QEMU VM (tcg, virtio-net on
/// the namespace's tap, no disk) booting the fixture's kernel and initramfs. Everything is removed on dispose.
/// </summary>
internal sealed partial class DisklessBoot : IDisposable
{
    private readonly OwnedResources _owned = new();

    public DisklessBoot(BootImageFixture fixture, string hostname, Action<ImageHttpServer>? configure = null)
    {
        var qemu = Tool.Require("qemu-system-x86_64", "qemu-system-x86");
        var dnsmasq = Tool.Require("dnsmasq", "dnsmasq-base");
        Work = TestWorkDirectory.Create("sidus-e2e-");
        SerialLog = Path.Combine(Work, "serial.log");
        Mac = "52:54:00:" + string.Join(':', Guid.NewGuid().ToByteArray()[..3].Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        try
        {
            Namespace = Own(new NetworkNamespace());
            Server = Own(new ImageHttpServer(Namespace, fixture.Repository));
            configure?.Invoke(Server);
            Own(new BackgroundProcess("ip", ["netns", "exec", Namespace.Name, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0",
                "--interface=br0", "--bind-interfaces", "--dhcp-range=10.77.0.50,10.77.0.150,255.255.255.0,1h",
                "--dhcp-option=3," + NetworkNamespace.HostAddress, "--dhcp-leasefile=" + Path.Combine(Work, "leases"), "--log-dhcp",
                "--pid-file=" + Path.Combine(Work, "dnsmasq.pid")], Path.Combine(Work, "dnsmasq.log")));
            var append = $"console=ttyS0 panic=-1 sidus.server={Server.Url} sidus.image={fixture.Version} sidus.mode=ram sidus.hostname={hostname}";
            Clock = Stopwatch.StartNew();
            Own(new BackgroundProcess("ip", ["netns", "exec", Namespace.Name, qemu, "-accel", "tcg", "-m", "1536", "-smp", "2",
                "-display", "none", "-monitor", "none", "-no-reboot", "-kernel", fixture.Boot.KernelPath, "-initrd", fixture.Boot.InitramfsPath,
                "-append", append, "-netdev", $"tap,id=n0,ifname={Namespace.Tap},script=no,downscript=no",
                "-device", $"virtio-net-pci,netdev=n0,mac={Mac}", "-device", "virtio-rng-pci", "-serial", "file:" + SerialLog], Path.Combine(Work, "qemu.log")));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Work { get; }
    public string SerialLog { get; }
    public string Mac { get; }
    public NetworkNamespace Namespace { get; } = null!;
    public ImageHttpServer Server { get; } = null!;
    public Stopwatch Clock { get; } = null!;

    /// <summary>The serial console so far, colour escapes removed.</summary>
    public string Serial => File.Exists(SerialLog) ? AnsiEscape().Replace(File.ReadAllText(SerialLog), string.Empty) : string.Empty;

    [System.Text.RegularExpressions.GeneratedRegex("\x1b\\[[0-9;]*m")]
    private static partial System.Text.RegularExpressions.Regex AnsiEscape();

    /// <summary>Waits until CONDITION holds or LIMIT passes; returns whether it held.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(500);
        }

        return condition();
    }

    private T Own<T>(T item) where T : IDisposable => _owned.Own(item);

    public void Dispose()
    {
        var failures = _owned.ReleaseAll();
        TestWorkDirectory.Remove(Work, failures);
        if (failures.Count > 0)
        {
            throw new AggregateException("cleaning up the boot test", failures);
        }
    }
}
