using System.Diagnostics;
using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// The whole chain against the real `sidus serve` binary in a private namespace: QEMU (tcg, SeaBIOS, no disk) runs its
/// iPXE ROM, gets a lease from Sidus's DHCP, fetches its script over HTTP, boots the image's kernel with the Sidus
/// initramfs, and the agent fetches the version into RAM and hands over to systemd, which reports "up".
/// </summary>
public sealed class ServeRamBootTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>, IDisposable
{
    private const string Node = "vm1";
    private const string Pool = "10.77.0.100-10.77.0.150";
    private const string ImageInitrdName = "sidus-initrd";
    private const string ImageKernelName = "sidus-vmlinuz";
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(420);
    private static readonly string[] ExpectedStages = ["dhcp", "script", "kernel", "agent", "root", "up"];

    private readonly string _work = Directory.CreateTempSubdirectory("sidus-e2e-serve-").FullName;
    private readonly string _mac = "52:54:00:" + string.Join(':', Guid.NewGuid().ToByteArray()[..3].Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    private string Database => Path.Combine(_work, "inventory.db");

    private static string SidusDll => Path.Combine(AppContext.BaseDirectory, "sidus.dll");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void Serve_RamNodeBootsThroughIpxeRom_StatusShowsEveryStageThroughUp()
    {
        var qemu = Tool.Require("qemu-system-x86_64", "qemu-system-x86");
        Assert.True(File.Exists("/usr/lib/ipxe/qemu/pxe-virtio.rom"), "the iPXE ROM for QEMU is missing: install ipxe-qemu");
        var add = Sidus("node", "add", Node, "--mac", _mac, "--image", BootImageFixture.Image, "--mode", "ram", "--kernel-args", "console=ttyS0 panic=-1");
        Assert.True(add.Code == 0, "sidus node add failed: " + add.Output);

        var serial = Path.Combine(_work, "serial.log");
        var serveLog = Path.Combine(_work, "serve.log");
        using var ns = new NetworkNamespace();
        Stopwatch clock;
        JsonElement status = default;
        bool up;
        using (var serve = new BackgroundProcess("ip",
            ["netns", "exec", ns.Name, "env", "SIDUS_DB=" + Database, "dotnet", SidusDll, "--home", fixture.Home, "serve",
             "--interface", "br0", "--dhcp", "full", "--pool", Pool, "--agent", fixture.AgentPath], serveLog))
        {
            Assert.True(DisklessBoot.WaitFor(() => Read(serveLog).Contains("HTTP listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(60)),
                "sidus serve did not start:\n" + Read(serveLog));
            clock = Stopwatch.StartNew();
            using var vm = new BackgroundProcess("ip",
                ["netns", "exec", ns.Name, qemu, "-accel", "tcg", "-m", "1536", "-smp", "2", "-display", "none", "-monitor", "none",
                 "-no-reboot", "-boot", "n", "-netdev", $"tap,id=n0,ifname={ns.Tap},script=no,downscript=no",
                 "-device", $"virtio-net-pci,netdev=n0,mac={_mac}", "-serial", "file:" + serial], Path.Combine(_work, "qemu.log"));
            up = DisklessBoot.WaitFor(() =>
            {
                var r = Sidus("node", "status", Node, "--json");
                if (r.Code != 0)
                {
                    return false;
                }

                status = JsonDocument.Parse(r.Output).RootElement.Clone()[0];
                return status.GetProperty("stage").GetString() is "up";
            }, BootLimit);
            output.WriteLine($"power-on to up (test clock): {clock.Elapsed.TotalSeconds:F1} s");
            var login = DisklessBoot.WaitFor(() => Read(serial).Contains(Node + " login:", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            output.WriteLine($"login prompt on the serial line: {login}");
        }

        // systemd colours its status lines: the escapes are removed before matching.
        var serialText = System.Text.RegularExpressions.Regex.Replace(Read(serial), "\x1b\\[[0-9;]*m", string.Empty);
        var serveText = Read(serveLog);
        output.WriteLine("sidus serve log (boot lines):\n" + string.Join('\n', serveText.Split('\n').Where(l => !l.Contains("Served a batch", StringComparison.Ordinal))));
        output.WriteLine("serial (tail):\n" + Tail(serialText, 5000));
        Assert.True(up, "the node did not reach 'up' within the limit; status: " + status + "\nserial:\n" + Tail(serialText, 6000) + "\nserve:\n" + Tail(Read(serveLog), 6000));

        var stages = status.GetProperty("stages").EnumerateArray()
            .Select(s => (Stage: s.GetProperty("stage").GetString()!, Ms: s.GetProperty("sinceStartMs").GetInt64())).ToList();
        foreach (var (stage, ms) in stages)
        {
            output.WriteLine($"stage {stage,-7} +{ms / 1000.0:F1} s");
        }

        var order = stages.Select(s => s.Stage).Where(ExpectedStages.Contains).Distinct().ToList();
        Assert.Equal(ExpectedStages, order);
        Assert.Equal("dhcp", stages[0].Stage);
        Assert.DoesNotContain(stages, s => s.Stage == "error");
        Assert.Equal(_mac, status.GetProperty("mac").GetString());
        // The VM's iPXE ROM prints on its screen, not the serial line: the server's log shows the script it took.
        Assert.Contains($"Script for {_mac}", serveText, StringComparison.Ordinal);
        Assert.Contains(ImageKernelName, serveText, StringComparison.Ordinal);
        Assert.Contains("sidus-agent: root ready", serialText, StringComparison.Ordinal);
        Assert.Contains("Reached target multi-user.target", serialText, StringComparison.Ordinal);
        Assert.Contains(Node + " login:", serialText, StringComparison.Ordinal);
        Assert.Contains(ImageInitrdName, serveText, StringComparison.Ordinal);

        // The override layer: what the booted node reports about itself matches what `sidus node render` says it gets.
        Assert.Contains("sidus-agent: overrides: ", serialText, StringComparison.Ordinal);
        var report = status.GetProperty("up");
        var render = Sidus("node", "render", Node, "--json");
        Assert.True(render.Code == 0, "sidus node render failed: " + render.Output);
        var files = JsonDocument.Parse(render.Output).RootElement.GetProperty("files").EnumerateArray()
            .ToDictionary(f => f.GetProperty("path").GetString()!, f => f.Clone());
        Assert.Equal(files["/etc/hostname"].GetProperty("text").GetString()!.Trim(), report.GetProperty("host").GetString());
        Assert.Equal(files["/etc/machine-id"].GetProperty("text").GetString()!.Trim(), report.GetProperty("machineId").GetString());
        Assert.Equal(files["/etc/ssh/ssh_host_ed25519_key"].GetProperty("fingerprint").GetString(), report.GetProperty("sshEd25519").GetString());
        Assert.Equal(report.GetProperty("image").GetString(), status.GetProperty("image").GetString());
        var memory = report.GetProperty("memory");
        output.WriteLine($"node RAM: total {memory.GetProperty("totalKib")} KiB, used {memory.GetProperty("usedKib")} KiB, shmem {memory.GetProperty("shmemKib")} KiB");
        Assert.True(memory.GetProperty("usedKib").GetInt64() > 0 && memory.GetProperty("shmemKib").GetInt64() > 0, "memory figures missing: " + report);
    }

    private (int Code, string Output) Sidus(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[SidusDll, "--home", fixture.Home, .. arguments])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["SIDUS_DB"] = Database;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Read(string path)
    {
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    private static string Tail(string text, int length) => text.Length > length ? text[^length..] : text;
}
