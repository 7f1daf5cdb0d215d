namespace Sidus.Cli.Commands.Demo;

/// <summary>
/// The demo's private network: a network namespace with a bridge on a private subnet and a tap port for the VM.
/// Nothing of it is visible outside the namespace; deleting the namespace (on dispose, safe to repeat) removes the
/// bridge and the tap with it.
/// </summary>
internal sealed class DemoNetwork : IDisposable
{
    public const string Bridge = "br0";
    public const string ServerAddress = "10.213.0.1";
    public const int PrefixLength = 24;
    public const string Pool = "10.213.0.100-10.213.0.150";
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(30);
    private int _disposed;

    private DemoNetwork(string name, string tap)
    {
        Name = name;
        Tap = tap;
    }

    public string Name { get; }
    public string Tap { get; }

    public static DemoNetwork Create()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var network = new DemoNetwork("sidus-demo-" + suffix, "sdtap" + suffix);
        Ip("netns", "add", network.Name);
        try
        {
            network.Inside("ip", "link", "set", "lo", "up");
            network.Inside("ip", "link", "add", Bridge, "type", "bridge");
            network.Inside("ip", "addr", "add", $"{ServerAddress}/{PrefixLength.ToString(CultureInfo.InvariantCulture)}", "dev", Bridge);
            network.Inside("ip", "link", "set", Bridge, "up");
            network.Inside("ip", "tuntap", "add", "dev", network.Tap, "mode", "tap");
            network.Inside("ip", "link", "set", network.Tap, "master", Bridge);
            network.Inside("ip", "link", "set", network.Tap, "up");
        }
        catch
        {
            network.Dispose();
            throw;
        }

        return network;
    }

    /// <summary>The command line that runs <paramref name="command"/> inside the namespace.</summary>
    public IReadOnlyList<string> Wrap(IEnumerable<string> command) => ["netns", "exec", Name, .. command];

    private void Inside(params string[] command) => Ip([.. Wrap(command)]);

    private static void Ip(params string[] arguments)
    {
        var (code, output) = Run("ip", arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({code.ToString(CultureInfo.InvariantCulture)}): {output.Trim()}");
        }
    }

    private static (int Code, string Output) Run(string file, IReadOnlyList<string> arguments)
    {
        try
        {
            var result = ProcessRunner.Run(file, arguments, "iproute2", CommandLimit);
            return (result.ExitCode, result.Output + result.Errors);
        }
        catch (TimeoutException e)
        {
            return (-1, e.Message);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            var (code, output) = Run("ip", ["netns", "delete", Name]);
            if (code != 0)
            {
                Console.Error.WriteLine($"sidus: could not remove the network namespace {Name}: {output.Trim()} (remove it with: ip netns delete {Name})");
            }
        }
    }
}
