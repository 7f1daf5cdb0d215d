using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// One QEMU VM (tcg, no boot disk, virtio-net on its own tap) of a <see cref="SharedBootLab"/>, with optional raw
/// virtio disks (vda, vdb... in order). It can be stopped (ctrl-alt-del through QMP: systemd's PID 1 reboots cleanly
/// by itself, no logind or dbus needed, and -no-reboot turns the reboot into QEMU's exit; killed if it has not
/// stopped in time) and started again with the same MAC and disks: a reboot.
/// </summary>
internal sealed class SharedVm : IDisposable
{
    private static readonly TimeSpan PowerdownLimit = TimeSpan.FromSeconds(120);
    private readonly SharedBootLab _lab;
    private readonly string _append;
    private readonly IReadOnlyList<string> _disks;
    private readonly string _tap;
    private BackgroundProcess? _qemu;
    private int _boots;

    public SharedVm(SharedBootLab lab, string hostname, string append, IReadOnlyList<string> disks)
    {
        _lab = lab;
        _append = append;
        _disks = disks;
        Hostname = hostname;
        _tap = lab.Namespace.AddTap();
        Mac = DirectBootVm.RandomMac();
    }

    public string Hostname { get; }
    public string Mac { get; }
    public Stopwatch Clock { get; } = new();
    public string SerialLog => Path.Combine(_lab.Work, $"serial-{Hostname}-{_boots}.log");
    private string QmpSocket => Path.Combine(_lab.Work, $"qmp-{Hostname}.sock");

    /// <summary>This boot's serial console so far, colour escapes removed.</summary>
    public string Serial => SerialConsole.Read(SerialLog);

    public void Start()
    {
        _boots++;
        File.Delete(QmpSocket);
        List<string> command = [.. DirectBootVm.Command(_lab.Namespace, _lab.Fixture.Boot, _append, SerialLog),
            "-qmp", $"unix:{QmpSocket},server=on,wait=off", .. DirectBootVm.Nic("n0", _tap, Mac)];
        foreach (var disk in _disks)
        {
            command.AddRange(["-drive", $"file={disk},if=virtio,format=raw,cache=writeback"]);
        }

        Clock.Restart();
        _qemu = new BackgroundProcess("ip", command, Path.Combine(_lab.Work, $"qemu-{Hostname}-{_boots}.log"));
    }

    /// <summary>Presses ctrl-alt-del and waits for QEMU to exit; true when the guest shut down by itself in time.</summary>
    public bool PowerDown()
    {
        if (_qemu is null || _qemu.HasExited)
        {
            return true;
        }

        var clean = false;
        try
        {
            Qmp("{\"execute\":\"send-key\",\"arguments\":{\"keys\":[{\"type\":\"qcode\",\"data\":\"ctrl\"},{\"type\":\"qcode\",\"data\":\"alt\"},{\"type\":\"qcode\",\"data\":\"delete\"}]}}");
            clean = SpinWait.SpinUntil(() => _qemu.HasExited, PowerdownLimit);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            clean = false;
        }

        _qemu.Dispose();
        _qemu = null;
        return clean;
    }

    private void Qmp(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = 10_000;
        socket.Connect(new UnixDomainSocketEndPoint(QmpSocket));
        var buffer = new byte[4096];
        socket.Receive(buffer);
        socket.Send(Encoding.ASCII.GetBytes("{\"execute\":\"qmp_capabilities\"}\n"));
        socket.Receive(buffer);
        socket.Send(Encoding.ASCII.GetBytes(command + "\n"));
        socket.Receive(buffer);
    }

    public void Dispose()
    {
        _qemu?.Dispose();
        _qemu = null;
    }
}
