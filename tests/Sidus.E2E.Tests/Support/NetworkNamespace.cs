using System.Runtime.InteropServices;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A private network namespace with a bridge at 10.77.0.1/24 and a tap port for a VM, removed on dispose (with
/// everything in it). Sockets can be made inside it from this process with <see cref="RunInside"/>.
/// </summary>
internal sealed partial class NetworkNamespace : IDisposable
{
    public const string HostAddress = "10.77.0.1";
    private const int CLONE_NEWNET = 0x40000000;

    public NetworkNamespace()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        Name = "sidus-e2e-" + suffix;
        Tap = "stap" + suffix;
        Ip = Tool.Require("ip", "iproute2");
        Tool.Run(Ip, "netns", "add", Name);
        try
        {
            Exec(Ip, "link", "set", "lo", "up");
            Exec(Ip, "link", "add", "br0", "type", "bridge");
            Exec(Ip, "addr", "add", HostAddress + "/24", "dev", "br0");
            Exec(Ip, "link", "set", "br0", "up");
            Exec(Ip, "tuntap", "add", "dev", Tap, "mode", "tap");
            Exec(Ip, "link", "set", Tap, "master", "br0");
            Exec(Ip, "link", "set", Tap, "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }
    public string Tap { get; }
    private string Ip { get; }

    /// <summary>Adds another tap port on BRIDGE (one per VM when several boot at once, or a VM's second NIC on a
    /// bridge of its own); removed with the namespace.</summary>
    public string AddTap(string bridge = "br0")
    {
        var tap = "stap" + Guid.NewGuid().ToString("N")[..6];
        Exec(Ip, "tuntap", "add", "dev", tap, "mode", "tap");
        Exec(Ip, "link", "set", tap, "master", bridge);
        Exec(Ip, "link", "set", tap, "up");
        return tap;
    }

    /// <summary>Adds a bridge without an address (a second network, e.g. one a VM serves), up.</summary>
    public void AddBridge(string bridge)
    {
        Exec(Ip, "link", "add", bridge, "type", "bridge");
        Exec(Ip, "link", "set", bridge, "up");
    }

    public string Exec(params string[] command) => Tool.Run(Ip, ["netns", "exec", Name, .. command]);

    /// <summary>Runs ACTION on a thread switched into this namespace (sockets it opens stay there).</summary>
    public void RunInside(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            using var original = File.OpenHandle("/proc/self/task/" + GetTid() + "/ns/net");
            using var target = File.OpenHandle("/run/netns/" + Name);
            if (setns(target.DangerousGetHandle(), CLONE_NEWNET) != 0)
            {
                failure = new IOException($"setns into {Name} failed: errno {Marshal.GetLastPInvokeError()}");
                return;
            }

            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                setns(original.DangerousGetHandle(), CLONE_NEWNET);
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw failure;
        }
    }

    public void Dispose()
    {
        // Deleting the namespace removes the bridge and the tap with it.
        Tool.TryRun(TimeSpan.FromSeconds(30), Ip, "netns", "delete", Name);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(nint fd, int nstype);

    [LibraryImport("libc")]
    private static partial int gettid();

    private static int GetTid() => gettid();
}
