using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sidus.Wire.Ipxe;
using Sidus.Artifacts.Verity;
using Sidus.Nodes;
using Sidus.Server.Hosting;
using Sidus.Artifacts.Exports;
using Sidus.Artifacts.Versions;
using Sidus.Store;
using Sidus.Store.Export;
using Sidus.Store.Objects;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// The dm-verity side of the exports: the boot script's sidus.nbd and sidus.verity arguments (ram and shared modes),
/// the VERSION.verity record next to each export, rebuilding an export made without one, and veritysetup (the real
/// peer, cryptsetup-bin) checking the file the server built against the argument it handed out.
/// </summary>
public sealed class VerityExportTests(SharedRootFixture f) : IClassFixture<SharedRootFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Script_RamNode_NbdAndVerityArgumentsEqualSidecar()
    {
        var kernel = KernelLine(await ScriptAsync(f.Http, SharedRootFixture.RamMac));
        Assert.Contains($"kernel /images/{f.VersionId}/sidus-vmlinuz?ticket=", kernel, StringComparison.Ordinal);
        Assert.Contains(" sidus.mode=ram ", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.image={f.VersionId} ", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.server=http://127.0.0.1:{f.Server.HttpEndpoint.Port} ", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.nbd=127.0.0.1:{f.NbdPort} ", kernel, StringComparison.Ordinal);

        var argument = Argument(kernel, "sidus.verity");
        var sidecar = Path.ChangeExtension(f.ExportPath, ErofsExports.VerityExtension);
        Assert.Equal(argument + "\n", await File.ReadAllTextAsync(sidecar));
        Assert.False(File.Exists(sidecar + ".tmp"));
        Assert.True(VerityInfo.TryParse(argument, out var verity, out var problem), problem);
        Assert.Equal(f.VersionId, Convert.ToHexStringLower(verity!.Salt));
        Assert.Equal((verity.DataBlocks * VerityTree.BlockSize) + verity.TreeBytes, new FileInfo(f.ExportPath).Length);
    }

    [Fact]
    public async Task Script_SharedNode_SameVerityArgumentAsRamNode()
    {
        var shared = Argument(KernelLine(await ScriptAsync(f.Http, SharedRootFixture.SharedMac)), "sidus.verity");
        var ram = Argument(KernelLine(await ScriptAsync(f.Http, SharedRootFixture.RamMac)), "sidus.verity");
        Assert.Equal(ram, shared);
    }

    [Fact]
    public async Task Veritysetup_ServerExportWithScriptArgument_AcceptedAndTamperedCopyRejected()
    {
        var argument = Argument(KernelLine(await ScriptAsync(f.Http, SharedRootFixture.RamMac)), "sidus.verity");
        Assert.True(VerityInfo.TryParse(argument, out var verity, out var problem), problem);

        var ok = await VerifyAsync(f.ExportPath, verity!);
        Assert.True(ok.ExitCode == 0, ok.Err);

        var copy = Path.Combine(f.Home, "tampered-" + Guid.NewGuid().ToString("N")[..8]);
        File.Copy(f.ExportPath, copy);
        try
        {
            using (var handle = File.OpenHandle(copy, FileMode.Open, FileAccess.ReadWrite))
            {
                var one = new byte[1];
                var offset = (verity!.DataBlocks - 1) * VerityTree.BlockSize;
                RandomAccess.Read(handle, one, offset);
                one[0] ^= 0x80;
                RandomAccess.Write(handle, one, offset);
            }

            var bad = await VerifyAsync(copy, verity!);
            Assert.NotEqual(0, bad.ExitCode);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public async Task GetOrBuild_CachedWithoutOrWithDamagedSidecar_RebuiltOverOpenFileAndRecorded()
    {
        await ScriptAsync(f.Http, SharedRootFixture.RamMac);
        var exports = f.Server.Services.GetRequiredService<ErofsExports>();
        var version = ObjectId.Parse(f.VersionId);
        var first = exports.GetOrBuild(version, CancellationToken.None);
        Assert.True(first.FromCache);
        var original = await File.ReadAllBytesAsync(first.Path);

        var opened = exports.Open(first);
        Assert.NotNull(opened.Export);
        using (opened.Export)
        {
            // What an older Sidus left: the erofs image alone, no tree, no record.
            File.Delete(exports.VerityPathFor(version));
            var erofsOnly = original.AsSpan(0, (int)(first.Verity.DataBlocks * VerityTree.BlockSize)).ToArray();
            await File.WriteAllBytesAsync(first.Path + ".old", erofsOnly);
            File.Move(first.Path + ".old", first.Path, overwrite: true);

            // A version always builds to the same bytes (fixed build time and UUID): the rebuilt export has the root
            // hash nodes already booted with, so one reconnecting to it still verifies.
            var rebuilt = exports.GetOrBuild(version, CancellationToken.None);
            Assert.False(rebuilt.FromCache);
            Assert.Equal(first.Verity, rebuilt.Verity);
            Assert.Equal(original, await File.ReadAllBytesAsync(rebuilt.Path));
            Assert.Equal(rebuilt.Verity.KernelArgument + "\n", await File.ReadAllTextAsync(exports.VerityPathFor(version)));
            var check = await VerifyAsync(rebuilt.Path, rebuilt.Verity);
            Assert.True(check.ExitCode == 0, check.Err);

            // A damaged record is not trusted either.
            await File.WriteAllTextAsync(exports.VerityPathFor(version), "not a verity record\n");
            var again = exports.GetOrBuild(version, CancellationToken.None);
            Assert.False(again.FromCache);
            Assert.Equal(again.Verity.KernelArgument + "\n", await File.ReadAllTextAsync(exports.VerityPathFor(version)));
            var cached = exports.GetOrBuild(version, CancellationToken.None);
            Assert.True(cached.FromCache);
            Assert.Equal(again.Verity, cached.Verity);
            Assert.Contains(f.Log.Lines, l => l.Contains("dm-verity record", StringComparison.Ordinal) && l.Contains("built again", StringComparison.Ordinal));

            // The connection opened before the rebuilds still reads the file it opened.
            var read = new byte[VerityTree.BlockSize];
            Assert.Equal(read.Length, RandomAccess.Read(opened.Export!.Handle, read, 0));
            Assert.Equal(original.AsSpan(0, read.Length).ToArray(), read);
        }

        Assert.Empty(Directory.EnumerateFiles(exports.Directory, "*" + ErofsExports.BuildSuffix + "*"));
    }

    [Fact]
    public void Constructor_StaleTemporaries_RemovedExportsKept()
    {
        var exports = f.Server.Services.GetRequiredService<ErofsExports>();
        var version = ObjectId.Parse(f.VersionId);
        exports.GetOrBuild(version, CancellationToken.None);
        var stale = new[]
        {
            exports.PathFor(version) + ExportOutput.TemporarySuffix,
            exports.PathFor(version) + ErofsExports.BuildSuffix,
            exports.PathFor(version) + ErofsExports.BuildSuffix + ExportOutput.TemporarySuffix,
            exports.VerityPathFor(version) + ExportOutput.TemporarySuffix,
        };
        foreach (var s in stale)
        {
            File.WriteAllText(s, "left by a killed build");
        }

        using (var store = new ImageStoreView(f.Home, NullLogger.Instance))
        {
            _ = new ErofsExports(store, f.Home, NullLogger.Instance);
        }

        Assert.All(stale, s => Assert.False(File.Exists(s), s + " was left"));
        Assert.True(File.Exists(exports.PathFor(version)));
        Assert.True(File.Exists(exports.VerityPathFor(version)));
    }

    [Fact]
    public async Task Script_RamNodeWithNbdOff_BootsWithoutNbdOrVerity()
    {
        var options = f.Options with { Nbd = f.Options.Nbd with { Enabled = false } };
        await using var server = await SidusServer.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Warning));
        var kernel = KernelLine(await ScriptAsync($"http://127.0.0.1:{server.HttpEndpoint.Port}", SharedRootFixture.RamMac));
        Assert.Contains(" sidus.mode=ram ", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.image={f.VersionId}", kernel, StringComparison.Ordinal);
        Assert.DoesNotContain("sidus.nbd=", kernel, StringComparison.Ordinal);
        Assert.DoesNotContain("sidus.verity=", kernel, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_LongestNamesAndLongOperatorArgs_FitWithVerity()
    {
        var image = "i" + new string('m', 63);
        var node = "n" + new string('x', 61) + "1";
        var mac = MacAddress.Parse("52:54:00:00:02:7f");
        // 707 characters: what is left once the boot's ticket (sidus.ticket=, 112 characters) is on the line.
        var operatorArgs = string.Join(' ', Enumerable.Range(0, 71).Select(i => $"opt{i:D2}=value"));
        Assert.True(operatorArgs.Length >= 700);
        using (var repository = Repository.Open(f.Home))
        {
            new ImageStore(repository).ImportDirectory(image, f.Root, "longest image name", null, CancellationToken.None);
        }

        await f.Inventory.EditAsync(e => e.AddNodeAsync(new Node
        {
            Name = node, Macs = [mac], Settings = new NodeSettings { Image = image, Mode = BootMode.Ram, KernelArgs = operatorArgs },
        }));

        // The server sees the new node and image after its inventory poll and store reopen.
        string script = "";
        await Tools.EventuallyAsync(async () =>
        {
            (_, script, _) = await Tools.BootScriptAsync(f.Http, $"/boot/{mac.ToString().Replace(':', '-')}.ipxe", Limit);
            return script.Contains("sidus.verity=", StringComparison.Ordinal);
        }, Limit, "a boot script with sidus.verity for the longest names: " + script);

        var kernel = KernelLine(script);
        Assert.Contains($" sidus.node={node} ", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.imageref={image}@1 ", kernel, StringComparison.Ordinal);
        const string start = " initrd=initrd ";
        const string end = " && goto ";
        var args = kernel[(kernel.IndexOf(start, StringComparison.Ordinal) + start.Length)..kernel.LastIndexOf(end, StringComparison.Ordinal)];
        Assert.EndsWith(" " + operatorArgs, args, StringComparison.Ordinal);
        Assert.Null(IpxeText.CheckKernelArgs(args));
        Assert.True(args.Length - operatorArgs.Length < 700, $"Sidus's own arguments take {args.Length - operatorArgs.Length} characters");
    }

    private static async Task<Tools.Result> VerifyAsync(string file, VerityInfo verity) =>
        await Tools.RunAsync(
            Tool.Require("veritysetup", "cryptsetup-bin"),
            [
                "verify", "--no-superblock", "--format=1", "--hash=sha256", "--data-block-size=4096", "--hash-block-size=4096",
                "--data-blocks=" + verity.DataBlocks, "--hash-offset=" + (verity.DataBlocks * VerityTree.BlockSize),
                "--salt=" + Convert.ToHexStringLower(verity.Salt), file, file, Convert.ToHexStringLower(verity.RootHash),
            ],
            Limit);

    private static async Task<string> ScriptAsync(string http, MacAddress mac)
    {
        var (status, script, _) = await Tools.BootScriptAsync(http, $"/boot/{mac.ToString().Replace(':', '-')}.ipxe", Limit);
        Assert.True(status == 200 && script.Contains("kernel ", StringComparison.Ordinal), script);
        return script;
    }

    private static string KernelLine(string script) => script.Split('\n').First(l => l.StartsWith("kernel ", StringComparison.Ordinal));

    private static string Argument(string kernel, string name)
    {
        var prefix = name + "=";
        var arg = kernel.Split(' ').SingleOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(arg is not null, $"no {name} in: {kernel}");
        return arg[prefix.Length..];
    }
}
