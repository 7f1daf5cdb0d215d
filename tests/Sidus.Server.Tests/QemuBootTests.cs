using System.Text.Json;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Store;
using Sidus.Testing;

namespace Sidus.Server.Tests;

/// <summary>
/// The iPXE ROM in QEMU (tcg) boots against the real `sidus serve` binary, both inside a network namespace the
/// test creates: a tap device carries the VM's traffic, Sidus's own DHCP gives the lease and the script URL, and
/// the VM fetches its per-node script over HTTP.
/// </summary>
public sealed class QemuBootTests : IDisposable
{
    private const string VmMac = "52:54:00:5a:00:01";
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(120);

    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-qemu-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly NetworkNamespace _ns = NetworkNamespace.Create("sq");

    public void Dispose()
    {
        _ns.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task BiosIpxeRom_GetsLeaseFromSidusDhcp_AndFetchesItsScript()
    {
        var qemu = Tool.Require("qemu-system-x86_64", "qemu-system-x86");
        Assert.True(File.Exists("/usr/lib/ipxe/qemu/pxe-virtio.rom"), "the iPXE ROM for QEMU is missing: install ipxe-qemu");
        await PrepareHomeAsync();
        _ns.Ip("tuntap", "add", "dev", "tap0", "mode", "tap");
        _ns.Ip("addr", "add", "10.99.0.1/24", "dev", "tap0");
        _ns.Ip("link", "set", "tap0", "up");

        var dll = Path.Combine(AppContext.BaseDirectory, "sidus.dll");
        using var serve = _ns.Start("dotnet", [dll, "--home", _home, "serve", "--interface", "tap0", "--dhcp", "full", "--pool", "10.99.0.100-10.99.0.150"]);
        Assert.True(await serve.WaitForOutputAsync("HTTP listening on", TimeSpan.FromSeconds(30)), "sidus serve did not start:\n" + serve.Output);

        var serial = Path.Combine(_home, "serial.log");
        using var vm = _ns.Start(qemu,
        [
            "-accel", "tcg", "-m", "256", "-nographic", "-display", "none", "-monitor", "none", "-serial", "file:" + serial,
            "-boot", "n", "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
            "-device", $"virtio-net-pci,netdev=n0,mac={VmMac}",
        ]);
        await Tools.EventuallyAsync(
            () => Task.FromResult(File.Exists(serial) && File.ReadAllText(serial).Contains("Sidus: vm1: deb@1", StringComparison.Ordinal)),
            BootLimit, "the VM printing its Sidus script's message");
        var log = File.ReadAllText(serial);
        Assert.Contains("http://10.99.0.1/boot/52-54-00-5a-00-01.ipxe", log, StringComparison.Ordinal);
        Assert.Contains("net0: 10.99.0.", log, StringComparison.Ordinal);

        JsonElement status = default;
        await Tools.EventuallyAsync(async () =>
        {
            var r = await Tools.SidusAsync(_home, "node", "status", "vm1", "--json");
            status = JsonDocument.Parse(r.Out).RootElement[0];
            return status.GetProperty("stages").EnumerateArray().Any(s => s.GetProperty("stage").GetString() == "script");
        }, TimeSpan.FromSeconds(20), "the script stage of vm1 being recorded");
        var stages = status.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()).ToList();
        Assert.Equal("dhcp", stages[0]);
        Assert.Contains("script", stages);
        Assert.Contains("DHCP ACK 10.99.0.1", serve.Output, StringComparison.Ordinal);
    }

    private async Task PrepareHomeAsync()
    {
        var root = Path.Combine(_home, "root", "boot");
        Directory.CreateDirectory(root);
        await File.WriteAllBytesAsync(Path.Combine(root, "vmlinuz-6.1.0-18-amd64"), new byte[4096]);
        using (var repository = Repository.Open(_home))
        {
            new ImageStore(repository).ImportDirectory("deb", Path.Combine(_home, "root"), "qemu test", null, CancellationToken.None);
        }

        await using var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "vm1", Macs = [MacAddress.Parse(VmMac)], Settings = new NodeSettings { Image = "deb" } }));
    }
}
