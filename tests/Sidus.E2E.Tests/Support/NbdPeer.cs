using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A real NBD server we did not write, serving one file read-only under an export name: qemu-nbd (qemu-utils) or
/// nbd-server (the reference implementation), on loopback or inside a test namespace. Killed on dispose.
/// </summary>
internal sealed class NbdPeer : IDisposable
{
    private const string ListenState = "0A";
    private static readonly TimeSpan ListenWait = TimeSpan.FromSeconds(20);
    private readonly BackgroundProcess _process;

    private NbdPeer(BackgroundProcess process, IPEndPoint endpoint, NetworkNamespace? ns)
    {
        _process = process;
        EndPoint = endpoint;
        try
        {
            WaitListening(ns);
        }
        catch
        {
            _process.Dispose();
            throw;
        }
    }

    public IPEndPoint EndPoint { get; }

    public static NbdPeer QemuNbd(string file, string export, IPEndPoint at, string logPath, NetworkNamespace? ns = null)
    {
        var qemuNbd = Tool.Require("qemu-nbd", "qemu-utils");
        // --shared: several nodes read the export at once; --persistent: the server outlives each client.
        string[] command = [qemuNbd, "--read-only", "--persistent", "--shared=16", "--format=raw", "-x", export,
            "-b", at.Address.ToString(), "-p", at.Port.ToString(CultureInfo.InvariantCulture), file];
        return new NbdPeer(Start(command, logPath, ns), at, ns);
    }

    public static NbdPeer NbdServer(string file, string export, IPEndPoint at, string workDirectory, NetworkNamespace? ns = null)
    {
        var nbdServer = Tool.Require("nbd-server", "nbd-server");
        var config = Path.Combine(workDirectory, "nbd-server.conf");
        File.WriteAllText(config, $"[generic]\nlistenaddr = {at.Address}\nport = {at.Port}\nallowlist = true\n\n[{export}]\nexportname = {file}\nreadonly = true\n");
        string[] command = [nbdServer, "-C", config, "-d"];
        return new NbdPeer(Start(command, Path.Combine(workDirectory, "nbd-server.log"), ns), at, ns);
    }

    /// <summary>A free TCP port on loopback (bound, read, released: the peer takes it right after).</summary>
    public static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static BackgroundProcess Start(string[] command, string logPath, NetworkNamespace? ns) =>
        ns is null
            ? new BackgroundProcess(command[0], command[1..], logPath)
            : new BackgroundProcess("ip", ["netns", "exec", ns.Name, .. command], logPath);

    private void WaitListening(NetworkNamespace? ns)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ListenWait)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the NBD server for {EndPoint} exited at start (see its log)");
            }

            // Read the listening sockets rather than connect: nbd-server -d serves one connection and exits after it.
            var table = ns is null ? File.ReadAllText("/proc/net/tcp") : ns.Exec("cat", "/proc/net/tcp");
            var port = ":" + EndPoint.Port.ToString("X4", CultureInfo.InvariantCulture);
            var listening = table.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Any(f => f.Length > 3 && f[1].EndsWith(port, StringComparison.Ordinal) && f[3] == ListenState);
            if (listening)
            {
                return;
            }

            Thread.Sleep(200);
        }

        throw new TimeoutException($"the NBD server did not listen on {EndPoint} within {ListenWait.TotalSeconds:F0} s");
    }

    public void Dispose() => _process.Dispose();
}
