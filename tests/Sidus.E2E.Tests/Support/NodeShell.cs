using System.Globalization;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A root shell on a network-booted node for the test: the node's override tree (<see cref="Install"/>) gives it a
/// unit that runs each line the test writes on a virtio serial port (<see cref="VmControlPort"/>) with sh and answers
/// "ID out LINE"... then "ID rc CODE". Output is kept in /run (tmpfs), so the shell itself writes nothing into the
/// node's root; its two files and one link come from the override layer, like every other override file.
/// </summary>
internal sealed class NodeShell : IDisposable
{
    public const string PortName = "sidus-e2e-shell";
    public const string Unit = "sidus-e2e-shell.service";
    public const string Script = "/usr/local/sbin/sidus-e2e-shell";
    private readonly VmControlPort _port;
    private int _next;

    private NodeShell(VmControlPort port) => _port = port;

    /// <summary>The paths the shell puts in the node's root (through the override layer).</summary>
    public static readonly string[] Paths = [Script, "/etc/systemd/system/" + Unit, "/etc/systemd/system/multi-user.target.wants/" + Unit];

    /// <summary>The QEMU arguments for the port, served on the socket at PATH.</summary>
    public static string[] QemuArguments(string path) => VmControlPort.QemuArguments(PortName, path);

    /// <summary>Writes the shell's unit, script and link into the override tree TREE (overrides/nodes/NAME).</summary>
    public static void Install(string tree)
    {
        var sbin = Path.Combine(tree, "usr/local/sbin");
        var units = Path.Combine(tree, "etc/systemd/system");
        var wants = Path.Combine(units, "multi-user.target.wants");
        Directory.CreateDirectory(sbin);
        Directory.CreateDirectory(wants);
        var script = Path.Combine(sbin, Path.GetFileName(Script));
        File.WriteAllText(script, $$"""
            #!/bin/sh
            # Sidus E2E (tests/Sidus.E2E.Tests/Support/NodeShell.cs): runs the test's lines from its control port.
            port=/dev/virtio-ports/{{PortName}}
            modprobe virtio_console 2>/dev/null
            n=0
            until [ -e $port ] || [ $n -ge 60 ]; do n=$((n + 1)); sleep 1; done
            exec 3<>$port
            printf 'ready\n' >&3
            while IFS= read -r line <&3; do
                id=${line%% *}
                sh -c "${line#* }" </dev/null >/run/sidus-e2e-shell.out 2>&1
                rc=$?
                while IFS= read -r out; do printf '%s out %s\n' "$id" "$out" >&3; done </run/sidus-e2e-shell.out
                printf '%s rc %s\n' "$id" "$rc" >&3
            done

            """);
        File.SetUnixFileMode(script, (UnixFileMode)0x1ED);
        File.WriteAllText(Path.Combine(units, Unit), $"""
            [Unit]
            Description=Sidus E2E: the test's shell on a control port

            [Service]
            ExecStart={Script}

            [Install]
            WantedBy=multi-user.target

            """);
        File.CreateSymbolicLink(Path.Combine(wants, Unit), "../" + Unit);
    }

    /// <summary>Connects to QEMU's socket at PATH and waits up to LIMIT for the node's "ready".</summary>
    public static NodeShell Connect(string path, string log, TimeSpan limit)
    {
        var port = VmControlPort.Connect(path, log, TimeSpan.FromSeconds(30));
        if (port.WaitForLine(l => l == "ready", limit) is null)
        {
            port.Dispose();
            throw new TimeoutException($"the node's shell did not say 'ready' within {limit}");
        }

        return new NodeShell(port);
    }

    /// <summary>Runs COMMAND (one line of sh) as root on the node; its exit code and output (stdout and stderr).</summary>
    public (int Code, string Output) Run(string command, TimeSpan? limit = null)
    {
        var id = "c" + (++_next).ToString(CultureInfo.InvariantCulture);
        _port.Send(id + " " + command);
        var done = _port.WaitForLine(l => l.StartsWith(id + " rc ", StringComparison.Ordinal), limit ?? TimeSpan.FromSeconds(60))
                   ?? throw new TimeoutException($"the node did not finish '{command}'; its lines:\n{_port.Transcript}");
        var output = _port.Lines.Where(l => l.StartsWith(id + " out ", StringComparison.Ordinal)).Select(l => l[(id.Length + 5)..]);
        return (int.Parse(done[(id.Length + 4)..], CultureInfo.InvariantCulture), string.Join('\n', output));
    }

    public void Dispose() => _port.Dispose();
}
