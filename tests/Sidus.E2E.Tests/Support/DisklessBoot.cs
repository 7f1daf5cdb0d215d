using System.Diagnostics;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// One diskless boot: a namespace, the image server and dnsmasq (DHCP only) in it, and a QEMU VM (tcg, virtio-net on
/// the namespace's tap, no disk) booting the fixture's kernel and initramfs. Everything is removed on dispose.
/// </summary>
internal sealed class DisklessBoot : IDisposable
{
    private readonly OwnedResources _owned = new();

    public DisklessBoot(BootImageFixture fixture, string hostname, Action<ImageHttpServer>? configure = null)
    {
        Work = TestWorkDirectory.Create("sidus-e2e-");
        SerialLog = Path.Combine(Work, "serial.log");
        Mac = DirectBootVm.RandomMac();
        try
        {
            Namespace = Own(new NetworkNamespace());
            Server = Own(new ImageHttpServer(Namespace, fixture.Repository));
            configure?.Invoke(Server);
            Own(BootDhcp.Start(Namespace, Work));
            var append = $"console=ttyS0 panic=-1 sidus.server={Server.Url} sidus.image={fixture.Version} sidus.mode=ram sidus.hostname={hostname}";
            Clock = Stopwatch.StartNew();
            Own(new BackgroundProcess("ip", [.. DirectBootVm.Command(Namespace, fixture.Boot, append, SerialLog), .. DirectBootVm.Nic("n0", Namespace.Tap, Mac)],
                Path.Combine(Work, "qemu.log")));
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
    public string Serial => SerialConsole.Read(SerialLog);

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
