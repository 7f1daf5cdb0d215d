using System.Text.Json;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Store;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// The iPXE ROM in QEMU (tcg) boots against the real `sidus serve` binary, both inside a network namespace the
/// test creates: a tap device carries the VM's traffic, Sidus's own DHCP gives the lease and the script URL, and
/// the VM fetches its per-node script over HTTP.
/// </summary>
public sealed class QemuBootTests : IDisposable
{
    private const string VmMac = "52:54:00:5a:00:01";
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(180);

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
        var (serve, log) = await BootAsync(uefi: false, proxy: false);
        Assert.Contains("net0: 10.99.0.1", log, StringComparison.Ordinal);
        Assert.Contains("DHCP ACK 10.99.0.1", serve, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UefiPxe_LoadsSnponlyOverTftp_ThenFetchesItsScript()
    {
        var (serve, log) = await BootAsync(uefi: true, proxy: false);
        Assert.Contains("TFTP sent snponly.efi to 10.99.0.1", serve, StringComparison.Ordinal);
        Assert.Contains("using SNP", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BiosIpxeRom_ProxyDhcpBesideDnsmasq_FetchesItsScript()
    {
        var (serve, log) = await BootAsync(uefi: false, proxy: true);
        Assert.Contains("net0: 10.99.0.5", log, StringComparison.Ordinal);
        Assert.DoesNotContain("DHCP ACK 10.99.0.1", serve, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UefiPxe_ProxyDhcpBesideDnsmasq_LoadsSnponlyAndFetchesItsScript()
    {
        var (serve, log) = await BootAsync(uefi: true, proxy: true);
        Assert.Contains("proxyDHCP OFFER to " + VmMac, serve, StringComparison.Ordinal);
        // OVMF is sent to the boot server (no "use the boot file" flag for UEFI): the port-4011 exchange ran.
        Assert.Contains("PXE boot server ACK to " + VmMac, serve, StringComparison.Ordinal);
        Assert.Contains("TFTP sent snponly.efi to 10.99.0.5", serve, StringComparison.Ordinal);
        Assert.Contains("net0: 10.99.0.5", log, StringComparison.Ordinal);
        Assert.DoesNotContain("DHCP ACK 10.99.0.1", serve, StringComparison.Ordinal);
    }

    /// <summary>Boots the VM until its script's message shows; returns sidus serve's output and the serial log.</summary>
    private async Task<(string Serve, string Serial)> BootAsync(bool uefi, bool proxy)
    {
        var qemu = Tool.Require("qemu-system-x86_64", "qemu-system-x86");
        Assert.True(File.Exists("/usr/lib/ipxe/qemu/pxe-virtio.rom"), "the iPXE ROM for QEMU is missing: install ipxe-qemu");
        await PrepareHomeAsync();
        _ns.Ip("tuntap", "add", "dev", "tap0", "mode", "tap");
        _ns.Ip("addr", "add", "10.99.0.1/24", "dev", "tap0");
        _ns.Ip("link", "set", "tap0", "up");

        BackgroundProcess? siteDhcp = null;
        if (proxy)
        {
            // The site's DHCP server, which Sidus does not own: DHCP only (no DNS, no TFTP, no PXE answers).
            var dnsmasq = Tool.Require("dnsmasq", "dnsmasq-base");
            siteDhcp = _ns.Start(dnsmasq,
            [
                "--keep-in-foreground", "--port=0", "--interface=tap0", "--bind-interfaces", "--dhcp-range=10.99.0.50,10.99.0.60,12h",
                "--leasefile-ro", "--log-dhcp", "--conf-file=/dev/null", "--pid-file=" + Path.Combine(_home, "dnsmasq.pid"),
            ]);
        }

        using var site = siteDhcp;
        var dll = Path.Combine(AppContext.BaseDirectory, "sidus.dll");
        using var serve = _ns.Start("dotnet",
            proxy
                ? [dll, "--home", _home, "serve", "--interface", "tap0", "--dhcp", "proxy"]
                : [dll, "--home", _home, "serve", "--interface", "tap0", "--dhcp", "full", "--pool", "10.99.0.100-10.99.0.150"]);
        Assert.True(await serve.WaitForOutputAsync("HTTP listening on", TimeSpan.FromSeconds(30)), "sidus serve did not start:\n" + serve.Output);

        var serial = Path.Combine(_home, "serial.log");
        List<string> args =
        [
            "-accel", "tcg", "-m", "512", "-nographic", "-display", "none", "-monitor", "none", "-serial", "file:" + serial,
            "-boot", "n", "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
        ];
        if (uefi)
        {
            var vars = Path.Combine(_home, "OVMF_VARS.fd");
            File.Copy("/usr/share/OVMF/OVMF_VARS_4M.fd", vars);
            args.AddRange(
            [
                "-machine", "q35",
                "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,file=" + vars,
                // No option ROM: the firmware's own PXE client boots, so the iPXE binary comes over our TFTP.
                "-device", $"virtio-net-pci,netdev=n0,mac={VmMac},romfile=",
            ]);
        }
        else
        {
            args.AddRange(["-device", $"virtio-net-pci,netdev=n0,mac={VmMac}"]);
        }

        using var vm = _ns.Start(qemu, args);
        await Tools.EventuallyAsync(
            () => Task.FromResult(File.Exists(serial) && File.ReadAllText(serial).Contains("Sidus: vm1: deb@1", StringComparison.Ordinal)),
            BootLimit, "the VM printing its Sidus script's message (serve output:\n" + serve.Output + ")");
        var log = File.ReadAllText(serial);
        Assert.Contains("/boot/52-54-00-5a-00-01.ipxe", log, StringComparison.Ordinal);

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
        if (uefi)
        {
            // OVMF's own PXE client fetches iPXE over TFTP (the BIOS ROM already is iPXE): that download is a stage too.
            Assert.Contains("tftp", stages);
        }

        return (serve.Output, log);
    }

    private async Task PrepareHomeAsync()
    {
        await BootableRoot.WriteAsync(Path.Combine(_home, "root"));
        using (var repository = Repository.Open(_home))
        {
            new ImageStore(repository).ImportDirectory("deb", Path.Combine(_home, "root"), "qemu test", null, CancellationToken.None);
        }

        await using var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "vm1", Macs = [MacAddress.Parse(VmMac)], Settings = new NodeSettings { Image = "deb", Mode = BootMode.Ram } }));
    }
}
