using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Sidus.Store;
using Sidus.Store.Checkout;
using Sidus.Store.Objects;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// The whole chain against the real `sidus serve` binary in a private namespace: QEMU (tcg, no disk) runs its iPXE
/// ROM (SeaBIOS's or OVMF's), gets a lease from Sidus's DHCP, fetches its script over HTTP, boots the image's kernel
/// with the Sidus initramfs, and the agent mounts the server's erofs export over NBD, checked by dm-verity, under a
/// tmpfs overlay (both modes), writes the node's override layer and hands over to systemd, which reports "up" with
/// what the booted system sees of itself. A ram node then copies the export into RAM and leaves the server.
/// </summary>
public sealed class ServeRamBootTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private const string Node = "vm1";
    private const string ImageInitrdName = "sidus-initrd";
    private const string ImageKernelName = "sidus-vmlinuz";
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(420);
    /// <summary>A VM too small for the copy of the export (394 MiB) beside the running system, big enough to boot.</summary>
    private const int SmallNodeMiB = 640;

    /// <summary>From "up" to the copy's outcome: the watcher waits for systemd to finish starting first.</summary>
    private static readonly TimeSpan CopyLimit = TimeSpan.FromSeconds(240);

    /// <summary>How long a refused node is watched for its NBD connection closing.</summary>
    private static readonly TimeSpan StillConnectedWatch = TimeSpan.FromSeconds(45);
    /// <summary>Ram mode with the file sync: the node's mode is ram, its kernel arguments ask for sidus.ram=sync.</summary>
    private const string RamSync = "ram-sync";

    private static readonly string[] ExpectedStages = ["dhcp", "script", "kernel", "agent", "root", "up"];

    [VmFact]
    public void Serve_RamNodeBootsThroughIpxeRom_StatusShowsEveryStageThroughUp()
    {
        using var boot = new ServeBoot(fixture);
        var dhcp = BootToUp(boot, Firmware.Bios, "ram");
        Assert.Contains("architecture 0", dhcp, StringComparison.Ordinal);
        CheckDetachedFromServer(boot);
        CheckApplyOverridesOnRunningNode(boot);
    }

    /// <summary>
    /// `sidus node apply-overrides` on the running node: its sidus-agent service (started by the booted systemd from
    /// the unit the layer installed) gets the request, writes the changed layer over its root and answers.
    /// </summary>
    private void CheckApplyOverridesOnRunningNode(ServeBoot boot)
    {
        Assert.Contains("sidus-agent: service: waiting on", boot.Serial, StringComparison.Ordinal);
        var tree = Path.Combine(Path.GetDirectoryName(boot.Database)!, "overrides", "nodes", Node, "etc");
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "sidus-e2e-applied.tmpl"), "{{ if node.name }}applied to {{ node.name }}{{ end }}\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, text) = boot.Sidus("node", "apply-overrides", Node, "--wait", "50", "--json");
        output.WriteLine($"apply-overrides ({clock.Elapsed.TotalSeconds:F1} s): {text}");
        Assert.True(code == 0, "apply-overrides failed: " + text + "\nserial:\n" + ServeBoot.Tail(boot.Serial, 3000));
        Assert.Contains("\"result\": \"applied: ", text, StringComparison.Ordinal);
        Assert.Contains("sidus-agent: overrides applied: ", boot.Serial, StringComparison.Ordinal);
        Assert.Contains($"Overrides of {Node} applied again on the running node: applied: ", boot.ServeText, StringComparison.Ordinal);
    }

    /// <summary>Ram mode with sidus.ram=sync: the agent claims its session with the script's ticket, then fetches the
    /// manifest and every batch with it (issue 11: content only for a node booting that version).</summary>
    [VmFact]
    public void Serve_RamSyncNodeBootsThroughIpxeRom_FetchesWithItsSession()
    {
        using var boot = new ServeBoot(fixture);
        BootToUp(boot, Firmware.Bios, RamSync, kernelArgs: "console=ttyS0 panic=-1 sidus.ram=sync");
        Assert.Contains("Boot ticket claimed: boot ", boot.ServeText, StringComparison.Ordinal);
        Assert.Contains("claimed this boot's session", boot.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain("Node credential refused", boot.ServeText, StringComparison.Ordinal);
        Assert.Contains("ram mode: fetching version", boot.Serial, StringComparison.Ordinal);
    }

    [VmFact]
    public void Serve_SharedNodeBootsThroughIpxeRom_RootIsOverlayOverNbdExport()
    {
        using var boot = new ServeBoot(fixture);
        var dhcp = BootToUp(boot, Firmware.Bios, "shared");
        Assert.Contains("architecture 0", dhcp, StringComparison.Ordinal);
    }

    [VmFact]
    public void Serve_SharedNodeBootsUefiThroughIpxeEfiRom_RootIsOverlayOverNbdExport()
    {
        using var boot = new ServeBoot(fixture);
        var dhcp = BootToUp(boot, Firmware.Uefi, "shared");
        Assert.Contains("architecture 7", dhcp, StringComparison.Ordinal);
        Assert.Contains("EFI stub", boot.Serial, StringComparison.Ordinal);
    }

    [VmFact]
    public void Serve_RamNodeBootsUefiThroughIpxeEfiRom_StatusShowsEveryStageThroughUp()
    {
        using var boot = new ServeBoot(fixture);
        var dhcp = BootToUp(boot, Firmware.Uefi, "ram");
        // iPXE's EFI build announces x86-64 UEFI (RFC 4578 arch 7); the kernel was started through its EFI stub.
        Assert.Contains("architecture 7", dhcp, StringComparison.Ordinal);
        Assert.Contains("EFI stub", boot.Serial, StringComparison.Ordinal);
        CheckDetachedFromServer(boot);
    }

    /// <summary>
    /// A shared node whose version is new to the server (its export not made: a fresh version of the image, one file
    /// added, so no other run shares it): the server builds the export without holding the script request, the node's
    /// iPXE is told to wait and ask again (sleep, then chain --replace --autofree the same script), follows that until
    /// the export is ready, then boots from it as usual.
    /// </summary>
    [VmFact]
    public void Serve_SharedNodeWhileExportBuilds_IpxeAsksAgainUntilReadyThenBoots()
    {
        const string Fresh = BootImageFixture.Image + "-fresh";
        var version = ImportFreshVersion(Fresh);
        try
        {
            using var boot = new ServeBoot(fixture);
            BootToUp(boot, Firmware.Bios, "shared", image: Fresh, addAfterServe: true);
            var asked = boot.ServeText.Split('\n')
                .Where(l => l.Contains($"Script for {boot.Mac}", StringComparison.Ordinal) && l.Contains("preparing", StringComparison.Ordinal)).ToList();
            output.WriteLine($"{asked.Count} 'preparing' answer(s) before the boot script:\n" + string.Join('\n', asked));

            // Told to wait at least once, and up all the same: only iPXE following the script's chain got it there.
            Assert.NotEmpty(asked);
        }
        finally
        {
            // The version exists for this test only: its export (hundreds of MiB) goes with it.
            foreach (var file in Directory.EnumerateFiles(Path.Combine(fixture.Home, "exports"), version + ".*"))
            {
                File.Delete(file);
            }

            new ImageStore(fixture.Repository).Remove(Fresh);
        }
    }

    /// <summary>The fixture's version with one file added, imported as IMAGE; returns its id.</summary>
    private ObjectId ImportFreshVersion(string image)
    {
        var root = Path.Combine(Path.GetTempPath(), "sidus-e2e-fresh-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var images = new ImageStore(fixture.Repository);
            images.Checkout($"{BootImageFixture.Image}@{fixture.Version}", root, new CheckoutOptions(), CancellationToken.None);
            File.WriteAllText(Path.Combine(root, "etc", "sidus-e2e-fresh"), Guid.NewGuid().ToString() + "\n");
            return images.ImportDirectory(image, root, "a version no server has made artifacts of", null, CancellationToken.None).Id;
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>
    /// A ram node whose RAM cannot hold the copy of its export beside the running system: the copy is refused before
    /// it starts, the server and the console are told why, and the node goes on from the network export as a shared
    /// node: its NBD connection stays open (the server never logs it closed) and it stays up.
    /// </summary>
    [VmFact]
    public void Serve_RamNodeTooSmallForCopy_StaysOnNbdExportAndSaysWhy()
    {
        const string Refused = "ram: staying on the network export: the copy needs ";
        using var boot = new ServeBoot(fixture);
        BootToUp(boot, Firmware.Bios, "ram", SmallNodeMiB);
        var said = DisklessBoot.WaitFor(() => NoteOf(boot, Refused) is not null, CopyLimit);
        output.WriteLine("after up:\n" + ServeBoot.Tail(boot.Serial, 3000));
        Assert.True(said, $"no '{Refused}...' note within {CopyLimit}; serial:\n{ServeBoot.Tail(boot.Serial, 4000)}");
        var note = NoteOf(boot, Refused)!;
        output.WriteLine($"{SmallNodeMiB} MiB node: {note}");
        Assert.Matches(@"needs \d+ MiB \(\d+ MiB export \+ \d+ MiB kept for the running system\), only \d+ MiB available$", note);
        Assert.Contains(Refused, boot.Serial, StringComparison.Ordinal);
        // Refused before anything was written to RAM, and never tried again.
        Assert.DoesNotContain("ram mode: copying export", boot.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain("the root is in RAM", boot.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain("copying the root into RAM failed", boot.Serial, StringComparison.Ordinal);

        // Still on the network export: the server never sees the connection close, and it is established now.
        var closed = DisklessBoot.WaitFor(() => boot.ServeText.Contains("closed export", StringComparison.Ordinal), StillConnectedWatch);
        Assert.False(closed, "the node's NBD connection ended although the copy was refused:\n" + ServeBoot.Tail(boot.ServeText, 4000));
        Assert.Contains("opened export", boot.ServeText, StringComparison.Ordinal);
        var port = NbdPort(boot.ServeText);
        var established = boot.Namespace.Exec("ss", "-tnH", "state", "established", $"( sport = :{port} )");
        output.WriteLine($"established NBD connections (port {port}):\n{established}");
        Assert.Contains(":" + port, established, StringComparison.Ordinal);
        var status = boot.Status(Node);
        Assert.True(status is { } s && s.GetProperty("stage").GetString() == "up", "the node is no longer up: " + status);
        Assert.DoesNotContain(ServeBoot.Stages(status!.Value), e => e.Stage == "error");
        Assert.DoesNotContain("Out of memory", boot.Serial, StringComparison.Ordinal);
    }

    /// <summary>The detail of the node's first event that starts with PREFIX, or null.</summary>
    private static string? NoteOf(ServeBoot boot, string prefix) =>
        boot.Status(Node) is { } status
            ? status.GetProperty("stages").EnumerateArray().Select(e => e.GetProperty("detail").GetString()!)
                .FirstOrDefault(d => d.StartsWith(prefix, StringComparison.Ordinal))
            : null;

    /// <summary>The port of "NBD listening on ADDRESS:PORT" in the serve log.</summary>
    private static string NbdPort(string serve)
    {
        var line = serve.Split('\n').First(l => l.Contains("NBD listening on", StringComparison.Ordinal)).Trim();
        return line[(line.LastIndexOf(':') + 1)..];
    }

    /// <summary>Boots the node to "up" and checks every stage; returns the detail of its dhcp stage.</summary>
    /// <param name="addAfterServe">Add the node once the server runs, so its warm-up (at start, then every 30 s) has
    /// not built the node's files yet when the node asks: the script request starts the build.</param>
    private string BootToUp(ServeBoot boot, Firmware firmware, string mode, int memoryMiB = ServeBoot.DefaultMemoryMiB, string image = BootImageFixture.Image,
        string kernelArgs = "console=ttyS0 panic=-1", bool addAfterServe = false)
    {
        if (addAfterServe)
        {
            boot.StartServe();
        }

        var add = boot.Sidus("node", "add", Node, "--mac", boot.Mac, "--image", image, "--mode", mode == RamSync ? "ram" : mode, "--kernel-args", kernelArgs);
        Assert.True(add.Code == 0, "sidus node add failed: " + add.Output);
        if (addAfterServe)
        {
            Assert.True(
                DisklessBoot.WaitFor(() => boot.ServeText.Contains("Inventory reloaded: 1 nodes", StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
                "the server did not see the new node:\n" + ServeBoot.Tail(boot.ServeText, 3000));
        }
        else
        {
            boot.StartServe();
        }

        boot.PowerOn(firmware, memoryMiB);
        var (up, status) = boot.WaitForStage(Node, "up", BootLimit);
        output.WriteLine($"{firmware} {mode}: power-on to up (test clock): {boot.Clock.Elapsed.TotalSeconds:F1} s");
        // The login prompt can come before systemd prints that multi-user is reached (a slow unit of it, a loaded host):
        // both are waited for before the serial line is read.
        var login = DisklessBoot.WaitFor(
            () => boot.Serial is var s && s.Contains(Node + " login:", StringComparison.Ordinal) && s.Contains("Reached target multi-user.target", StringComparison.Ordinal),
            TimeSpan.FromSeconds(120));
        output.WriteLine($"login prompt on the serial line: {login}");

        var serial = boot.Serial;
        var serve = boot.ServeText;
        output.WriteLine("sidus serve log (boot lines):\n" + string.Join('\n', serve.Split('\n').Where(l => !l.Contains("Served a batch", StringComparison.Ordinal))));
        output.WriteLine("serial (tail):\n" + ServeBoot.Tail(serial, 5000));
        Assert.True(up, "the node did not reach 'up' within the limit; status: " + status + "\nserial:\n" + ServeBoot.Tail(serial, 6000) + "\nserve:\n" + ServeBoot.Tail(serve, 6000));

        var stages = ServeBoot.Stages(status);
        foreach (var (stage, ms) in stages)
        {
            output.WriteLine($"stage {stage,-7} +{ms / 1000.0:F1} s");
        }

        var order = stages.Select(s => s.Stage).Where(ExpectedStages.Contains).Distinct().ToList();
        Assert.Equal(ExpectedStages, order);
        Assert.Equal("dhcp", stages[0].Stage);
        Assert.DoesNotContain(stages, s => s.Stage == "error");
        Assert.Equal(boot.Mac, status.GetProperty("mac").GetString());
        Assert.Contains($"Script for {boot.Mac}", serve, StringComparison.Ordinal);
        Assert.Contains(ImageKernelName, serve, StringComparison.Ordinal);
        Assert.Contains(ImageInitrdName, serve, StringComparison.Ordinal);
        Assert.Contains("sidus-agent: root ready", serial, StringComparison.Ordinal);
        // The VM's RNG gets its driver from the initramfs: without one, early getrandom() can stall a diskless boot.
        Assert.Contains(status.GetProperty("stages").EnumerateArray(), s => s.GetProperty("detail").GetString() is { } d &&
            d.StartsWith("drivers: ", StringComparison.Ordinal) && d.Contains("virtio_rng", StringComparison.Ordinal));
        Assert.Contains("Reached target multi-user.target", serial, StringComparison.Ordinal);
        Assert.Contains(Node + " login:", serial, StringComparison.Ordinal);
        CheckUpReport(boot, status, serial, mode);
        return status.GetProperty("stages").EnumerateArray().First(s => s.GetProperty("stage").GetString() == "dhcp").GetProperty("detail").GetString() ?? string.Empty;
    }

    /// <summary>
    /// What the booted node says about itself: its identity matches what `sidus node render` says it gets, its root
    /// is what its mode makes, and its memory figures are there.
    /// </summary>
    private void CheckUpReport(ServeBoot boot, JsonElement status, string serial, string mode)
    {
        Assert.Contains("sidus-agent: overrides: ", serial, StringComparison.Ordinal);
        var report = status.GetProperty("up");
        var render = boot.Sidus("node", "render", Node, "--json");
        Assert.True(render.Code == 0, "sidus node render failed: " + render.Output);
        var files = JsonDocument.Parse(render.Output).RootElement.GetProperty("files").EnumerateArray()
            .ToDictionary(f => f.GetProperty("path").GetString()!, f => f.Clone());
        Assert.Equal(files["/etc/hostname"].GetProperty("text").GetString()!.Trim(), report.GetProperty("host").GetString());
        Assert.Equal(files["/etc/machine-id"].GetProperty("text").GetString()!.Trim(), report.GetProperty("machineId").GetString());
        Assert.Equal(files["/etc/ssh/ssh_host_ed25519_key"].GetProperty("fingerprint").GetString(), report.GetProperty("sshEd25519").GetString());
        Assert.Equal(report.GetProperty("image").GetString(), status.GetProperty("image").GetString());
        var memory = report.GetProperty("memory");
        output.WriteLine($"node RAM ({mode}): total {memory.GetProperty("totalKib")} KiB, used {memory.GetProperty("usedKib")} KiB, shmem {memory.GetProperty("shmemKib")} KiB");
        Assert.True(memory.GetProperty("usedKib").GetInt64() > 0 && memory.GetProperty("shmemKib").GetInt64() > 0, "memory figures missing: " + report);

        var up = status.GetProperty("stages").EnumerateArray().Last(s => s.GetProperty("stage").GetString() == "up").GetProperty("detail").GetString()!;
        var root = status.GetProperty("stages").EnumerateArray().Where(s => s.GetProperty("stage").GetString() == "root")
            .Select(s => s.GetProperty("detail").GetString()!).ToList();
        if (mode == RamSync)
        {
            // The files synced into tmpfs, every one fetched in the version's batches with the node's session.
            Assert.Contains("root=tmpfs:tmpfs", up, StringComparison.Ordinal);
            Assert.Contains(root, d => d.StartsWith("ready: ", StringComparison.Ordinal) && d.Contains(" files, ", StringComparison.Ordinal) && d.Contains(" verified in ", StringComparison.Ordinal));
            Assert.Contains("Served batch 0 of ", boot.ServeText, StringComparison.Ordinal);
            return;
        }

        // Both modes boot from the version's erofs export over NBD, checked block by block by dm-verity.
        Assert.Contains("root=overlay:overlay", up, StringComparison.Ordinal);
        Assert.Contains("lower=erofs:/dev/dm-", up, StringComparison.Ordinal);
        Assert.Contains("upper=tmpfs", up, StringComparison.Ordinal);
        Assert.Contains(root, d => d.StartsWith($"ready: {mode}, export {report.GetProperty("image").GetString()}", StringComparison.Ordinal) &&
                                   d.Contains("verified by dm-verity", StringComparison.Ordinal));
        Assert.Contains("dm-verity over /dev/nbd", serial, StringComparison.Ordinal);
        Assert.Contains("NBD", boot.ServeText, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Ram mode's second half: once up, the node copies the export into RAM, puts the copy under its root and closes
    /// its NBD connection, which the server sees end. Then the node needs nothing from the server.
    /// </summary>
    private void CheckDetachedFromServer(ServeBoot boot)
    {
        const string InRam = "ram: the root is in RAM";
        var detached = DisklessBoot.WaitFor(
            () => boot.Status(Node) is { } s && s.GetProperty("stages").EnumerateArray().Any(e => e.GetProperty("detail").GetString()!.StartsWith(InRam, StringComparison.Ordinal)),
            CopyLimit);
        var events = boot.Status(Node) is { } status ? string.Join('\n', ServeBoot.Stages(status).Select(e => e.Stage)) : "(no status)";
        output.WriteLine("after up:\n" + ServeBoot.Tail(boot.Serial, 3000));
        Assert.True(detached, $"no '{InRam}' event within the limit; stages: {events}\nserial:\n{ServeBoot.Tail(boot.Serial, 4000)}");
        Assert.Contains(InRam, boot.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain("copying the root into RAM failed", boot.Serial, StringComparison.Ordinal);
        var closed = DisklessBoot.WaitFor(() => boot.ServeText.Contains("client disconnected", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.True(closed, "the server never saw the node's NBD connection end:\n" + ServeBoot.Tail(boot.ServeText, 4000));
    }
}
