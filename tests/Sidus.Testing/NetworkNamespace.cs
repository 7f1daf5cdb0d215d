using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Sidus.Testing;

/// <summary>A throwaway Linux network namespace for tests that speak DHCP, TFTP or anything else that must never
/// reach a real network. Dispose stops every process inside it and deletes it (with its interfaces).</summary>
/// <remarks>
/// Two ways to put code inside:
/// <list type="bullet">
/// <item>Other programs: <see cref="Run"/> and <see cref="Start"/> wrap them in <c>ip netns exec NAME</c>.</item>
/// <item>In-process code: <see cref="Invoke{T}"/> runs a delegate on a fresh thread that has entered the namespace
/// with <c>setns(2)</c>. A socket belongs to the namespace it was created in, for life, whichever thread later uses
/// it; so create sockets (e.g. a server's Bind) inside Invoke and run the async loops anywhere. The thread ends with
/// the delegate, so no pooled thread is ever left in the wrong namespace.</item>
/// </list>
/// Names carry a random suffix so parallel tests and leftovers from a crashed run never collide.
/// </remarks>
public sealed class NetworkNamespace : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private readonly List<BackgroundProcess> _processes = [];
    private readonly string _ip;
    private bool _disposed;

    private NetworkNamespace(string name)
    {
        Name = name;
        _ip = Tool.Require("ip", "iproute2");
    }

    public string Name { get; }

    /// <summary>Creates a namespace named PREFIX-RANDOM with its loopback up.</summary>
    public static NetworkNamespace Create(string prefix = "sidus")
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        var ns = new NetworkNamespace(name);
        ProcessRunner.RunChecked(ns._ip, ["netns", "add", name], CommandTimeout);
        try
        {
            ns.Ip("link", "set", "lo", "up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Runs <c>ip -n NAME ARGS</c> and throws with its output when it fails.</summary>
    public CommandResult Ip(params string[] arguments) =>
        ProcessRunner.RunChecked(_ip, ["-n", Name, .. arguments], CommandTimeout);

    /// <summary>Creates a bridge (optionally with an address) and brings it up.</summary>
    public void AddBridge(string bridge, string? cidr = null)
    {
        Ip("link", "add", bridge, "type", "bridge");
        if (cidr is not null)
            Ip("addr", "add", cidr, "dev", bridge);
        Ip("link", "set", bridge, "up");
    }

    /// <summary>Joins this namespace and <paramref name="peer"/> with a veth pair: <paramref name="localName"/> here,
    /// <paramref name="peerName"/> there, each optionally addressed; <paramref name="localBridge"/> enslaves the local
    /// end to a bridge of this namespace instead of addressing it. Both ends come up.</summary>
    public void ConnectVeth(string localName, string? localCidr, NetworkNamespace peer, string peerName, string? peerCidr,
        string? localBridge = null, string? peerMac = null)
    {
        List<string> add = ["link", "add", localName, "type", "veth", "peer", "name", peerName];
        if (peerMac is not null)
            add.AddRange(["address", peerMac]);
        add.AddRange(["netns", peer.Name]);
        Ip([.. add]);
        if (localBridge is not null)
            Ip("link", "set", localName, "master", localBridge);
        if (localCidr is not null)
            Ip("addr", "add", localCidr, "dev", localName);
        Ip("link", "set", localName, "up");
        if (peerCidr is not null)
            peer.Ip("addr", "add", peerCidr, "dev", peerName);
        peer.Ip("link", "set", peerName, "up");
    }

    /// <summary>Runs a program inside the namespace to completion (bounded by <paramref name="timeout"/>).</summary>
    public CommandResult Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null) =>
        ProcessRunner.Run(_ip, ["netns", "exec", Name, file, .. arguments], timeout ?? CommandTimeout);

    /// <summary>Starts a long-running program inside the namespace; it is stopped at the latest by Dispose.</summary>
    public BackgroundProcess Start(string file, IEnumerable<string> arguments)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // `ip netns exec` execs the program in place, so the process id is the program's own.
        var process = new BackgroundProcess(_ip, ["netns", "exec", Name, file, .. arguments]);
        lock (_processes)
            _processes.Add(process);
        return process;
    }

    /// <summary>Runs <paramref name="action"/> on a new thread inside the namespace and returns its result; waits at
    /// most <paramref name="timeout"/> (default 20 s).</summary>
    public T Invoke<T>(Func<T> action, TimeSpan? timeout = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter();
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = $"netns {Name}",
        };
        thread.Start();
        if (!thread.Join(timeout ?? CommandTimeout))
            throw new TimeoutException($"Code inside namespace {Name} did not finish in time.");
        if (failure is not null)
            throw new InvalidOperationException($"Code inside namespace {Name} failed: {failure.Message}", failure);
        return result;
    }

    public void Invoke(Action action, TimeSpan? timeout = null) => Invoke<bool>(() =>
    {
        action();
        return true;
    }, timeout);

    /// <summary>Stops the processes started here (SIGTERM, then SIGKILL), kills anything else still inside (only
    /// ever ours: the namespace is private to the test), then deletes the namespace and so its interfaces.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            lock (_processes)
            {
                foreach (var process in _processes)
                    process.Dispose();
                _processes.Clear();
            }
        }
        finally
        {
            KillRemainingAndDelete();
        }
    }

    private void KillRemainingAndDelete()
    {
        var pids = ProcessRunner.Run(_ip, ["netns", "pids", Name], CommandTimeout);
        foreach (var line in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId)
                _ = Native.kill(pid, Native.SigKill);
        }
        ProcessRunner.Run(_ip, ["netns", "del", Name], CommandTimeout);
    }

    private void Enter()
    {
        using var handle = File.OpenHandle($"/var/run/netns/{Name}", FileMode.Open, FileAccess.Read);
        if (Native.setns((int)handle.DangerousGetHandle(), Native.CloneNewNet) != 0)
            throw new InvalidOperationException($"setns into {Name} failed: errno {Marshal.GetLastPInvokeError()}.");
    }
}
