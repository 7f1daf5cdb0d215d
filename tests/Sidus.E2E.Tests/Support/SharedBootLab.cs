using System.Net;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// The server side of shared-mode boots, in a private namespace: the test's HTTP server (events), dnsmasq for DHCP,
/// and a real NBD server (qemu-nbd) exporting the fixture version's EROFS file under the version id on
/// 10.77.0.1:10809. VMs are started with <see cref="StartVm"/>; everything is removed on dispose.
/// </summary>
internal sealed class SharedBootLab : IDisposable
{
    public const int NbdPort = 10809;
    private readonly List<IDisposable> _owned = [];
    private NbdPeer? _nbd;

    public SharedBootLab(BootImageFixture fixture, bool startNbd = true)
    {
        Fixture = fixture;
        Tool.Require("qemu-system-x86_64", "qemu-system-x86");
        Tool.Require("qemu-nbd", "qemu-utils");
        Export = SharedExport.Get(fixture);
        Work = TestWorkDirectory.Create("sidus-e2e-shared-");
        try
        {
            Namespace = Own(new NetworkNamespace());
            Server = Own(new ImageHttpServer(Namespace, fixture.Repository));
            Own(BootDhcp.Start(Namespace, Work));
            if (startNbd)
            {
                StartNbd(fixture.Version.ToString());
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public BootImageFixture Fixture { get; }
    public string Export { get; }
    public string Work { get; }
    public NetworkNamespace Namespace { get; } = null!;
    public ImageHttpServer Server { get; } = null!;

    /// <summary>(Re)starts the NBD server, exporting FILE (default: the version's EROFS file) under EXPORTNAME.</summary>
    public void StartNbd(string exportName, string? file = null)
    {
        StopNbd();
        _nbd = NbdPeer.QemuNbd(file ?? Export, exportName, new IPEndPoint(IPAddress.Parse(NetworkNamespace.HostAddress), NbdPort),
            Path.Combine(Work, $"qemu-nbd-{exportName[..Math.Min(8, exportName.Length)]}.log"), Namespace);
    }

    public void StopNbd()
    {
        _nbd?.Dispose();
        _nbd = null;
    }

    /// <summary>A VM booting the fixture's kernel and initramfs in MODE (shared, or ram from the export), started now;
    /// EXTRA is added to its kernel command line.</summary>
    public SharedVm StartVm(string hostname, string? overlay = null, IReadOnlyList<string>? disks = null, string mode = "shared", string? extra = null)
    {
        var append = $"console=ttyS0 panic=-1 sidus.server={Server.Url} sidus.image={Fixture.Version} sidus.mode={mode} " +
                     $"sidus.nbd={NetworkNamespace.HostAddress}:{NbdPort} sidus.imageref={BootImageFixture.Image} sidus.hostname={hostname}" +
                     (overlay is null ? string.Empty : " sidus.overlay=" + overlay) + (extra is null ? string.Empty : " " + extra);
        var vm = Own(new SharedVm(this, hostname, append, disks ?? []));
        vm.Start();
        return vm;
    }

    /// <summary>How long a VM is given to boot to "up" under tcg on a busy machine.</summary>
    public static readonly TimeSpan BootLimit = TimeSpan.FromMinutes(6);

    /// <summary>Waits for the VM's COUNT-th "up" event and returns its detail; fails with the console when it does not come.</summary>
    public string WaitUp(SharedVm vm, int count = 1)
    {
        var up = DisklessBoot.WaitFor(() => EventsOf(vm).Count(e => e.Stage == "up") >= count, BootLimit);
        Xunit.Assert.True(up, $"{vm.Hostname}: no 'up' event #{count} within {BootLimit}; serial log:\n{Tail(vm.Serial)}");
        return EventsOf(vm).Where(e => e.Stage == "up").ElementAt(count - 1).Detail;
    }

    /// <summary>The value of KEY=VALUE in an up report, or "" when absent.</summary>
    public static string Fact(string detail, string key) =>
        detail.Split(' ').FirstOrDefault(w => w.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..] ?? string.Empty;

    public static string Tail(string text) => text.Length > 6000 ? text[^6000..] : text;

    /// <summary>The VM's events and the console lines worth reading after a test (agent, NBD, verity, targets, reboot).</summary>
    public void Report(SharedVm vm, ITestOutputHelper output)
    {
        foreach (var e in EventsOf(vm))
        {
            output.WriteLine($"event {e.Time:HH:mm:ss.fff} {e.Mac} {e.Stage}: {e.Detail}");
        }

        output.WriteLine($"serial log of {vm.Hostname} (agent, nbd, verity, target and reboot lines):");
        string[] worth = ["sidus-agent", "nbd", "verity", "Reached target"];
        foreach (var line in vm.Serial.Split('\n').Where(l => worth.Any(w => l.Contains(w, StringComparison.Ordinal)) || l.Contains("reboot", StringComparison.OrdinalIgnoreCase)))
        {
            output.WriteLine(line.TrimEnd('\r'));
        }

        output.WriteLine(TestWorkDirectory.Describe(Work));
    }

    /// <summary>The events one VM (by MAC) reported.</summary>
    public List<(DateTime Time, string Mac, string Stage, string Detail)> EventsOf(SharedVm vm) =>
        [.. Server.Events.Where(e => e.Mac.Replace(":", string.Empty, StringComparison.Ordinal) == vm.Mac.Replace(":", string.Empty, StringComparison.Ordinal))];

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public void Dispose()
    {
        var failures = new List<Exception>();
        try
        {
            StopNbd();
        }
        catch (Exception e)
        {
            failures.Add(e);
        }

        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                _owned[i].Dispose();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        // Kept logs (SIDUS_TEST_KEEP=1) stay without the disk images (up to 1 GiB each).
        foreach (var disk in Directory.EnumerateFiles(Work, "*.raw"))
        {
            File.Delete(disk);
        }

        TestWorkDirectory.Remove(Work, failures);

        if (failures.Count > 0)
        {
            throw new AggregateException("cleaning up the shared boot lab", failures);
        }
    }
}
