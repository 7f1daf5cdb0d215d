using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Store;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// SIGHUP to the real `sidus serve` in a network namespace, with full DHCP on a veth and a busybox udhcpc in a second
/// namespace: the reload applies DHCP options live, names the settings that need a restart and keeps them, refuses a
/// broken file, and neither cuts a running HTTP download nor loses a lease; a stop lets a running download finish.
/// </summary>
public sealed partial class ServeReloadTests : IDisposable
{
    private const string ClientMac = "52:54:00:7e:10:01";
    private const int KernelBytes = 56 << 20;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-reload-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly NetworkNamespace _server = NetworkNamespace.Create("srl");
    private readonly NetworkNamespace _client = NetworkNamespace.Create("crl");

    public ServeReloadTests()
    {
        Directory.CreateDirectory(_home);
        _server.ConnectVeth("veth0", "10.77.0.1/24", _client, "veth1", null, peerMac: ClientMac);
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Sighup_AppliesDhcpOptionsLive_KeepsLeaseAndDownload_RefusesBrokenFile()
    {
        var (_, kernel) = await PrepareHomeAsync();
        var config = Path.Combine(_home, "sidus.toml");
        await File.WriteAllTextAsync(config, Config(port: 8080, router: "10.77.0.1", dns: null, pool: "10.77.0.100-10.77.0.150"));
        using var serve = _server.Start("env", ["-u", "SIDUS_DB", "-u", "JOURNAL_STREAM", "-u", "NOTIFY_SOCKET", "dotnet", Path.Combine(AppContext.BaseDirectory, "sidus.dll"), "--home", _home, "serve"]);
        Assert.True(await serve.WaitForOutputAsync("HTTP listening on", Limit), "sidus serve did not start:\n" + serve.Output);

        var first = Udhcpc(null);
        Assert.Equal("10.77.0.1", first.Router);

        // The kernel as the node's script names it: with the boot's ticket, issued to the node at its leased address.
        Assert.True(_client.Run("ip", ["addr", "replace", first.Address + "/24", "dev", "veth1"]).Succeeded, "the lease's address on the client");
        // The image's own kernel, with the ticket the script gives for the Sidus one (its initramfs made first:
        // until then the server answers "preparing, ask again").
        var kernelLine = KernelLine();
        var script = BootableRoot.ScriptWhenReady(() => _client.Run("curl", ["-sS", "--fail", $"http://10.77.0.1:8080/boot/{ClientMac.Replace(':', '-')}.ipxe"]).StandardOutput);
        var kernelMatch = kernelLine.Match(script);
        Assert.True(kernelMatch.Success, "no kernel with a ticket in the script:\n" + script);
        var kernelUrl = $"http://10.77.0.1:8080{kernelMatch.Groups["dir"].Value}vmlinuz{kernelMatch.Groups["ticket"].Value}";

        // A download that spans the reload: 56 MiB at 8 MiB/s, 7 s.
        var download = Path.Combine(_home, "kernel.download");
        using var curl = _client.Start("curl", ["-sS", "--fail", "--limit-rate", "8M", "-o", download, kernelUrl]);
        await Tools.EventuallyAsync(() => Task.FromResult(File.Exists(download) && new FileInfo(download).Length > (1 << 20)), Limit, "the download starting");

        await File.WriteAllTextAsync(config, Config(port: 8081, router: "10.77.0.254", dns: "10.77.0.53", pool: "10.77.0.100-10.77.0.150"));
        serve.Signal(BackgroundProcess.SigHup);
        Assert.True(await serve.WaitForOutputAsync("Configuration changes that need a restart", Limit), serve.Output);
        Assert.False(curl.HasExited, "the download ended before the reload; it proves nothing:\n" + curl.Output);
        Assert.Contains("interface veth0.router 10.77.0.1 -> 10.77.0.254; interface veth0.dns (none) -> 10.77.0.53", serve.Output, StringComparison.Ordinal);
        Assert.Contains("running values kept: http.port 8080 -> 8081", serve.Output, StringComparison.Ordinal);

        Assert.True(curl.WaitForExit(Limit), "the download did not finish");
        Assert.Equal(0, curl.ExitCode);
        Assert.Equal(SHA256.HashData(kernel), SHA256.HashData(await File.ReadAllBytesAsync(download)));

        // The same lease, with the new options; the server kept its lease table (restored once, at start).
        var renewed = Udhcpc(first.Address);
        Assert.Equal(first.Address, renewed.Address);
        Assert.Equal("10.77.0.254", renewed.Router);
        Assert.Equal("10.77.0.53", renewed.Dns);
        Assert.Single(Regex.Matches(serve.Output, "Lease journal .* restored"));
        Assert.True(_server.Run("curl", ["-sS", "--fail", "http://127.0.0.1:8080/healthz"]).Succeeded, "HTTP left the port it listens on");

        // A broken file is refused whole: the running options stay.
        await File.WriteAllTextAsync(config, Config(port: 8080, router: "10.77.0.99", dns: null, pool: "10.99.0.1-10.99.0.5"));
        serve.Signal(BackgroundProcess.SigHup);
        Assert.True(await serve.WaitForOutputAsync("Configuration reload refused", Limit), serve.Output);
        Assert.Contains("pool 10.99.0.1-10.99.0.5 is not inside its subnet 10.77.0.0/24", serve.Output, StringComparison.Ordinal);
        var after = Udhcpc(first.Address);
        Assert.Equal(first.Address, after.Address);
        Assert.Equal("10.77.0.254", after.Router);

        // A stop lets a running download finish (7 s, within the 10 s a stop grants; more than socket buffers hold).
        File.Delete(download);
        using var last = _client.Start("curl", ["-sS", "--fail", "--limit-rate", "8M", "-o", download, kernelUrl]);
        await Tools.EventuallyAsync(() => Task.FromResult(File.Exists(download) && new FileInfo(download).Length > (1 << 20)), Limit, "the last download starting");
        serve.Signal(BackgroundProcess.SigTerm);
        Assert.True(last.WaitForExit(Limit), "the download did not finish");
        Assert.Equal(0, last.ExitCode);
        Assert.Equal(SHA256.HashData(kernel), SHA256.HashData(await File.ReadAllBytesAsync(download)));
        Assert.True(serve.WaitForExit(TimeSpan.FromSeconds(20)), serve.Output);
        Assert.Equal(0, serve.ExitCode);
    }

    private static string Config(int port, string router, string? dns, string pool) => $"""
        [http]
        port = {port}
        [tftp]
        enabled = false
        [nbd]
        enabled = false
        [[interface]]
        name = "veth0"
        dhcp = "full"
        pools = ["{pool}"]
        router = "{router}"
        {(dns is null ? string.Empty : $"dns = [\"{dns}\"]")}
        lease-time = 600
        """;

    private sealed record Lease(string Address, string Router, string Dns);

    /// <summary>One udhcpc cycle in the client namespace; its script only prints what it got.</summary>
    private Lease Udhcpc(string? request)
    {
        var script = Path.Combine(_home, "udhcpc.sh");
        File.WriteAllText(script, "#!/bin/sh\necho \"EVENT $1 ip=$ip router=$router dns=$dns\"\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        List<string> args = ["-i", "veth1", "-f", "-q", "-n", "-t", "5", "-T", "2", "-s", script];
        if (request is not null)
        {
            args.AddRange(["-r", request]);
        }

        var result = _client.Run(Tool.Require("udhcpc", "udhcpc"), args, Limit);
        var bound = Bound().Match(result.StandardOutput + result.StandardError);
        Assert.True(result.Succeeded && bound.Success, $"udhcpc got no lease:\n{result}");
        return new Lease(bound.Groups["ip"].Value, bound.Groups["router"].Value, bound.Groups["dns"].Value.Trim());
    }

    private async Task<(string Version, byte[] Kernel)> PrepareHomeAsync()
    {
        await BootableRoot.WriteAsync(Path.Combine(_home, "root"));
        var kernel = RandomNumberGenerator.GetBytes(KernelBytes);
        await File.WriteAllBytesAsync(Path.Combine(_home, "root", "boot", "vmlinuz-" + BootableRoot.Release), kernel);
        string version;
        using (var repository = Repository.Open(_home))
        {
            version = new ImageStore(repository).ImportDirectory("deb", Path.Combine(_home, "root"), "reload test", null, CancellationToken.None).Id.ToString();
        }

        Directory.Delete(Path.Combine(_home, "root"), recursive: true);
        await using var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "box", Macs = [MacAddress.Parse(ClientMac)], Settings = new NodeSettings { Image = "deb", Mode = BootMode.Ram } }));
        return (version, kernel);
    }

    [GeneratedRegex(@"kernel (?<dir>/images/[0-9a-f]+/)sidus-vmlinuz(?<ticket>\?ticket=[A-Za-z0-9_-]+)")]
    private static partial Regex KernelLine();

    [GeneratedRegex(@"EVENT bound ip=(?<ip>\S+) router=(?<router>\S*) dns=(?<dns>[^\n]*)")]
    private static partial Regex Bound();
}
