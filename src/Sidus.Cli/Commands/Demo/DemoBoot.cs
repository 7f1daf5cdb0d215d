using System.Diagnostics;
using System.Runtime.InteropServices;
using Sidus.Nodes.Storage;

namespace Sidus.Cli.Commands.Demo;

/// <summary>How long one boot and its timings took, as the server recorded them.</summary>
internal sealed record DemoBootResult(BootMode Mode, TimeSpan PowerOnToUp, IReadOnlyList<StageTiming> Stages);

/// <summary>
/// A network boot on one machine: a private network namespace (bridge + tap), `sidus serve` in it (DHCP full on a
/// private subnet, a private inventory holding one node for the VM's MAC), and a QEMU VM (tcg, iPXE ROM, no disk)
/// booted once per mode. Shows the node's stages live from the server's boot status until "up" (a ram node: until its
/// root is in RAM and it has left the server). Everything it created (VM, server, namespace, temp files) is removed
/// on dispose, and at once on Ctrl-C, SIGTERM or SIGHUP (the demo handles those itself while it runs, so nothing is
/// left behind however the process is stopped).
/// </summary>
internal sealed class DemoBoot : IAsyncDisposable
{
    public const string NodeName = "demo1";
    private const string KernelArgs = "console=ttyS0 panic=-1";
    private const string VmMemory = "1536";
    private static readonly TimeSpan ServeStartLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BootLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a ram node is watched after "up" for the note that its root is in RAM.</summary>
    private static readonly TimeSpan DetachLimit = TimeSpan.FromMinutes(3);

    /// <summary>The start of the agent's note once a ram node's root is in RAM (src/Sidus.Agent/Boot/RamCopy.cs).</summary>
    private const string RamDetachedNote = "ram: the root is in RAM";

    private readonly string _home;
    private readonly string _image;
    private readonly DemoPrerequisites _tools;
    private readonly string _work;
    private readonly string _mac;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _interrupted = new();
    private readonly PosixSignalRegistration[] _signals;
    private DemoNetwork? _network;
    private DemoProcess? _serve;
    private DemoProcess? _vm;
    private InventoryStore? _inventory;
    private bool _disposed;

    public DemoBoot(string home, string image, DemoPrerequisites tools)
    {
        _home = home;
        _image = image;
        _tools = tools;
        _work = Directory.CreateTempSubdirectory("sidus-demo-").FullName;
        _mac = "52:54:00:" + string.Join(':', Guid.NewGuid().ToByteArray()[..3].Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        _signals = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(s => PosixSignalRegistration.Create(s, OnSignal))];
    }

    private string Database => Path.Combine(_work, "inventory.db");
    private string ServeLog => Path.Combine(_work, "serve.log");
    private string SerialLog => Path.Combine(_work, "serial.log");

    /// <summary>Creates the network and the inventory, then starts `sidus serve` and waits until it listens.</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _interrupted.Token);
        var ct = linked.Token;
        _inventory = await InventoryStore.OpenAsync(Database, ct: ct);
        await _inventory.EditAsync(e => e.AddNodeAsync(new Sidus.Nodes.Node
        {
            Name = NodeName,
            Macs = [MacAddress.Parse(_mac)],
            Settings = new NodeSettings { Image = _image, Mode = BootMode.Ram, KernelArgs = KernelArgs },
        }), ct);
        Say($"inventory {Database}: node {NodeName} (MAC {_mac}), image {_image}");

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _network = DemoNetwork.Create();
        }

        Say($"network namespace {_network.Name}: bridge {DemoNetwork.Bridge} {DemoNetwork.ServerAddress}/{DemoNetwork.PrefixLength}, tap {_network.Tap} for the VM");
        var serve = _network.Wrap([.. _tools.Sidus, "--home", _home, "serve", "--interface", DemoNetwork.Bridge, "--dhcp", "full",
            "--pool", DemoNetwork.Pool, "--agent", _tools.Agent]);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _serve = new DemoProcess("ip", serve, ServeLog, new Dictionary<string, string> { [InventoryStore.DatabaseVariable] = Database });
        }

        var clock = Stopwatch.StartNew();
        while (!File.ReadAllText(ServeLog).Contains("HTTP listening on", StringComparison.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            if (_serve.HasExited || clock.Elapsed > ServeStartLimit)
            {
                throw new StoreException($"sidus serve did not start (log {ServeLog}):\n{Tail(ServeLog)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
        }

        Say($"sidus serve is up in the namespace: DHCP full on {DemoNetwork.Bridge} (pool {DemoNetwork.Pool}), HTTP, TFTP; log {ServeLog}");
    }

    /// <summary>Sets the node's mode, powers a fresh VM on, shows its stages until "up", then powers it off.</summary>
    public async Task<DemoBootResult> BootAsync(BootMode mode, CancellationToken cancellation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _interrupted.Token);
        var ct = linked.Token;
        var inventory = _inventory ?? throw new InvalidOperationException("StartAsync first");
        var node = await inventory.GetNodeAsync(NodeName, ct) ?? throw new StoreException($"node {NodeName} vanished from the demo inventory");
        if (node.Settings.Mode != mode)
        {
            await inventory.EditAsync(e => e.UpdateNodeAsync(node with { Settings = node.Settings with { Mode = mode } }, node.Revision), ct);
        }

        File.Delete(SerialLog);
        var powerOn = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _vm = new DemoProcess("ip", _network!.Wrap([_tools.Qemu, "-accel", "tcg", "-m", VmMemory, "-smp", "2", "-nographic", "-display", "none",
                "-monitor", "none", "-no-reboot", "-boot", "n", "-netdev", $"tap,id=n0,ifname={_network.Tap},script=no,downscript=no",
                "-device", $"virtio-net-pci,netdev=n0,mac={_mac}", "-device", "virtio-rng-pci", "-serial", "file:" + SerialLog]),
                Path.Combine(_work, "qemu.log"));
        }

        Say($"QEMU powered on (tcg, {VmMemory} MiB, no disk, iPXE ROM); serial console in {SerialLog}");
        var shown = 0;
        NodeBootStatus? status = null;
        TimeSpan? upAt = null;
        try
        {
            while (true)
            {
                status = (await inventory.GetBootStatusAsync(ct)).FirstOrDefault(s => s.Node == NodeName && s.Started >= powerOn.AddSeconds(-2));
                var stages = status?.Stages ?? [];
                for (; shown < stages.Count; shown++)
                {
                    var s = stages[shown];
                    Say($"  {s.Stage.ToText(),-6} +{s.SinceStart.TotalSeconds,6:0.0} s  {s.Detail}");
                }

                if (status?.Latest.Stage == BootStage.Up)
                {
                    upAt ??= clock.Elapsed;
                    // A ram node goes on after "up": it copies its root into RAM and leaves the server. Shown too.
                    if (mode != BootMode.Ram || stages.Any(s => s.Detail?.StartsWith(RamDetachedNote, StringComparison.Ordinal) == true) ||
                        clock.Elapsed - upAt > DetachLimit)
                    {
                        break;
                    }
                }
                else if (upAt is not null && status?.Latest.Stage == BootStage.Error)
                {
                    break;
                }

                ct.ThrowIfCancellationRequested();
                if (_vm.HasExited)
                {
                    throw new StoreException($"the VM stopped before reaching 'up' (exit {_vm.ExitCode}); its console:\n{Tail(SerialLog)}");
                }

                if (clock.Elapsed > BootLimit)
                {
                    throw new StoreException($"the node did not reach 'up' within {BootLimit.TotalMinutes:0} minutes (last stage {status?.Latest.Stage.ToText() ?? "none"}); its console:\n{Tail(SerialLog)}\nserver log: {ServeLog}");
                }

                await Task.Delay(PollInterval, ct);
            }
        }
        finally
        {
            lock (_gate)
            {
                _vm?.Dispose();
                _vm = null;
            }
        }

        return new DemoBootResult(mode, upAt ?? clock.Elapsed, status.Stages);
    }

    /// <summary>Prints each stage once (a stage reported several times in a row shows its first and last report), the
    /// time from the previous stage, and power-on to up.</summary>
    public static void PrintTimings(DemoBootResult result)
    {
        Say($"{result.Mode.ToText()} mode timings (from the node's first DHCP request, as the server recorded them):");
        var previous = TimeSpan.Zero;
        var stages = result.Stages;
        for (var i = 0; i < stages.Count;)
        {
            var first = stages[i];
            var last = first;
            while (++i < stages.Count && stages[i].Stage == first.Stage)
            {
                last = stages[i];
            }

            var span = last.SinceStart > first.SinceStart ? $" to {last.SinceStart.TotalSeconds:0.0} s ({last.Detail})" : string.Empty;
            Say($"  {first.Stage.ToText(),-6} at {first.SinceStart.TotalSeconds,6:0.0} s  (+{(first.SinceStart - previous).TotalSeconds,4:0.0} s){span}");
            previous = first.SinceStart;
        }

        Say($"  power-on to up: {result.PowerOnToUp.TotalSeconds:0.0} s (QEMU tcg: software emulation, several times slower than real hardware)");
    }

    private static string Tail(string path)
    {
        if (!File.Exists(path))
        {
            return "(nothing)";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var text = new StreamReader(stream).ReadToEnd();
        return text.Length > 3000 ? text[^3000..] : text;
    }

    private static void Say(string text) => Console.WriteLine("   " + text);

    private void OnProcessExit(object? sender, EventArgs e) => Cleanup();

    /// <summary>Ctrl-C and friends: the demo's loops stop (exit 130 follows) and everything is removed right here,
    /// before anything else can end the process.</summary>
    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _interrupted.Cancel();
        Cleanup();
    }

    public async ValueTask DisposeAsync()
    {
        if (_inventory is { } inventory)
        {
            await inventory.DisposeAsync();
        }

        Cleanup();
        _interrupted.Dispose();
    }

    /// <summary>Stops the VM and the server, removes the namespace and the temp files; safe to call twice (the
    /// process-exit hook calls it when Ctrl-C ends the process before the demo's own cleanup ran).</summary>
    private void Cleanup()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _vm?.Dispose();
            _serve?.Dispose();
            _network?.Dispose();
        }


        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }

        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"sidus: could not remove {_work}: {e.Message}");
        }

        Console.Out.WriteLine($"   cleaned up: VM and sidus serve stopped, {(_network is null ? "" : "network namespace " + _network.Name + " and ")}{_work} removed");
    }
}
