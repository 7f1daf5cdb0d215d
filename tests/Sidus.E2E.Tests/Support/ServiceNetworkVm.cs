using System.Diagnostics;
using Sidus.Artifacts.Initramfs;
using Sidus.Nodes.Overrides;
using Sidus.Store.Objects;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A diskless VM that serves a network of its own, for testing a server that runs inside a booted image:
/// <list type="bullet">
/// <item>the boot network, as in <see cref="DisklessBoot"/>: a namespace's br0 with dnsmasq and the test's image
/// server; the VM boots the given version in ram mode (every file fetched into tmpfs) with the given override layer;</item>
/// <item>the service network: a bridge br1 in the same namespace joining the VM's second NIC (<see cref="ServiceMac"/>)
/// and a client namespace (<see cref="Client"/>) where the test runs real clients against what the VM serves;
/// nothing else is on it;</item>
/// <item>a control port (<see cref="Control"/>, the guest's /dev/virtio-ports/<see cref="ControlPortName"/>) for a
/// script in the guest to talk to the test.</item>
/// </list>
/// Everything is removed on dispose.
/// </summary>
internal sealed class ServiceNetworkVm : IDisposable
{
    public const string ControlPortName = "sidus.control";
    private const string ServiceBridge = "br1";
    private static readonly TimeSpan ConnectLimit = TimeSpan.FromSeconds(30);
    private readonly OwnedResources _owned = new();
    private readonly ObjectId _version;
    private readonly AgentBootFiles _boot;
    private readonly string _hostname;
    private readonly string _serviceTap;

    public ServiceNetworkVm(BootImageFixture fixture, ObjectId version, AgentBootFiles boot, string hostname)
    {
        (_version, _boot, _hostname) = (version, boot, hostname);
        Work = TestWorkDirectory.Create("sidus-e2e-service-");
        SerialLog = Path.Combine(Work, "serial.log");
        try
        {
            Namespace = Own(new NetworkNamespace());
            Server = Own(new ImageHttpServer(Namespace, fixture.Repository));
            Own(BootDhcp.Start(Namespace, Work));
            Namespace.AddBridge(ServiceBridge);
            _serviceTap = Namespace.AddTap(ServiceBridge);
            Client = Own(new ClientNamespace(Namespace, ServiceBridge));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Work { get; }
    public string SerialLog { get; }
    public string BootMac { get; } = DirectBootVm.RandomMac();
    public string ServiceMac { get; } = DirectBootVm.RandomMac();
    public NetworkNamespace Namespace { get; } = null!;
    public ImageHttpServer Server { get; } = null!;
    public ClientNamespace Client { get; } = null!;
    public VmControlPort Control { get; private set; } = null!;

    /// <summary>Started at power-on.</summary>
    public Stopwatch Clock { get; } = new();

    /// <summary>The console so far, colour escapes removed.</summary>
    public string Serial => SerialConsole.Read(SerialLog);

    /// <summary>Powers the VM on, its override layer carrying OVERRIDES beside the "up" unit, and connects the control port.</summary>
    public void PowerOn(IReadOnlyList<OverrideFile> overrides)
    {
        Server.ExtraOverrides = overrides;
        var control = Path.Combine(Work, "control.sock");
        var append = $"console=ttyS0 panic=-1 sidus.server={Server.Url} sidus.image={_version} sidus.mode=ram sidus.hostname={_hostname}";
        Clock.Start();
        Own(new BackgroundProcess("ip",
            [
                .. DirectBootVm.Command(Namespace, _boot, append, SerialLog), .. VmControlPort.QemuArguments(ControlPortName, control),
                .. DirectBootVm.Nic("n0", Namespace.Tap, BootMac), .. DirectBootVm.Nic("n1", _serviceTap, ServiceMac),
            ],
            Path.Combine(Work, "qemu.log")));
        Control = Own(VmControlPort.Connect(control, Path.Combine(Work, "control.log"), ConnectLimit));
    }

    private T Own<T>(T item) where T : IDisposable => _owned.Own(item);

    public void Dispose()
    {
        var failures = _owned.ReleaseAll();
        TestWorkDirectory.Remove(Work, failures);
        if (failures.Count > 0)
        {
            throw new AggregateException("cleaning up the service VM", failures);
        }
    }
}
