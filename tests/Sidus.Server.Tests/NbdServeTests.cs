using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Artifacts;
using Sidus.Artifacts.Exports;
using Sidus.Artifacts.Versions;
using Sidus.Server.Images;
using Sidus.Store;
using Microsoft.Extensions.Logging;

namespace Sidus.Server.Tests;

/// <summary>
/// Shared mode from the server's side: the boot script, the erofs export cache, and NBD served to real clients
/// (libnbd's nbdinfo/nbdcopy; nbdfuse with the kernel's erofs mounting the export) on loopback.
/// </summary>
public sealed class NbdServeTests(SharedRootFixture f) : IClassFixture<SharedRootFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Script_SharedNode_SidusInitramfsNbdEndpointAndExportBuilt()
    {
        var script = await ScriptAsync();
        var kernel = script.Split('\n').First(l => l.StartsWith("kernel ", StringComparison.Ordinal));
        Assert.Contains($"kernel /images/{f.VersionId}/sidus-vmlinuz?ticket=", kernel, StringComparison.Ordinal);
        Assert.Contains(" sidus.mode=shared ", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.image={f.VersionId} ", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.server=http://127.0.0.1:{f.Server.HttpEndpoint.Port} sidus.nbd=127.0.0.1:{f.NbdPort}", kernel, StringComparison.Ordinal);
        Assert.Contains($" sidus.verity={File.ReadAllText(Path.ChangeExtension(f.ExportPath, ErofsExports.VerityExtension)).TrimEnd('\n')}", kernel, StringComparison.Ordinal);
        Assert.Contains($"initrd --name initrd /images/{f.VersionId}/sidus-initrd", script, StringComparison.Ordinal);
        Assert.True(File.Exists(f.ExportPath), "the export was not built when the script was asked for");
        Assert.False(File.Exists(f.ExportPath + ".tmp"));
        Assert.Contains(f.Log.Lines, l => l.Contains("Erofs export of " + f.VersionId[..12] + " built in", StringComparison.Ordinal) && l.Contains(" bytes at ", StringComparison.Ordinal));
        Assert.Contains(f.Log.Lines, l => l.Contains("erofs root", StringComparison.Ordinal) && l.Contains("over NBD", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nbdinfo_ListAndInfo_VersionExportReadOnlyWithCacheSize()
    {
        await ScriptAsync();
        var list = await Tools.RunAsync("nbdinfo", ["--list", "--json", $"nbd://127.0.0.1:{f.NbdPort}"], Limit);
        Assert.True(list.ExitCode == 0, list.Err);
        var names = JsonDocument.Parse(list.Out).RootElement.GetProperty("exports").EnumerateArray().Select(e => e.GetProperty("export-name").GetString()).ToList();
        Assert.DoesNotContain(f.VersionId, names);

        var info = await Tools.RunAsync("nbdinfo", ["--json", await ExportUrlAsync()], Limit);
        Assert.True(info.ExitCode == 0, info.Err);
        var export = JsonDocument.Parse(info.Out).RootElement.GetProperty("exports")[0];
        Assert.Equal(new FileInfo(f.ExportPath).Length, export.GetProperty("export-size").GetInt64());
        Assert.True(export.GetProperty("is_read_only").GetBoolean());
        Assert.True(export.GetProperty("can_multi_conn").GetBoolean());
    }

    [Fact]
    public async Task Nbdinfo_NotAVersion_Refused()
    {
        var upper = await Tools.RunAsync("nbdinfo", [$"nbd://127.0.0.1:{f.NbdPort}/{f.VersionId.ToUpperInvariant()}"], Limit);
        Assert.NotEqual(0, upper.ExitCode);
        var missing = await Tools.RunAsync("nbdinfo", [await ExportUrlAsync(new string('a', 64))], Limit);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains(f.Log.Lines, l => l.Contains("is not in the image store", StringComparison.Ordinal));
        Assert.Contains(f.Log.Lines, l => l.Contains("is not a version id", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nbdcopy_SixClientsAtOnce_SameBytesAsCacheFile()
    {
        await ScriptAsync();
        var expected = SHA256.HashData(await File.ReadAllBytesAsync(f.ExportPath));
        var url = await ExportUrlAsync();
        var targets = Enumerable.Range(0, 6).Select(i => Path.Combine(f.Home, $"copy-{i}-{Guid.NewGuid():N}.img")).ToArray();
        try
        {
            var results = await Task.WhenAll(targets.Select(t =>
                Tools.RunAsync("nbdcopy", ["--connections=2", url, t], Limit)));
            foreach (var (r, t) in results.Zip(targets))
            {
                Assert.True(r.ExitCode == 0, r.Err);
                Assert.Equal(expected, SHA256.HashData(await File.ReadAllBytesAsync(t)));
            }

            var size = new FileInfo(f.ExportPath).Length;
            await Tools.EventuallyAsync(
                () => Task.FromResult(f.Log.Lines.Count(l => l.Contains("closed export " + f.VersionId, StringComparison.Ordinal)) >= 12),
                TimeSpan.FromSeconds(20), "twelve connections logged as closed");
            Assert.Contains(f.Log.Lines, l => l.Contains("127.0.0.1", StringComparison.Ordinal) && l.Contains("opened export " + f.VersionId, StringComparison.Ordinal) && l.Contains($"({size} bytes)", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var t in targets)
            {
                File.Delete(t);
            }
        }
    }

    [Fact]
    public async Task Mount_ErofsThroughNbdfuse_FilesAreTheVersions()
    {
        await ScriptAsync();
        var fuse = Path.Combine(f.Home, "fuse-" + Guid.NewGuid().ToString("N")[..8]);
        var mount = Path.Combine(f.Home, "mnt-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(fuse);
        Directory.CreateDirectory(mount);
        var psi = new ProcessStartInfo("nbdfuse") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-r", fuse, await ExportUrlAsync() })
        {
            psi.ArgumentList.Add(a);
        }

        using var nbdfuse = Process.Start(psi) ?? throw new InvalidOperationException("nbdfuse did not start (apt-get install nbdfuse)");
        var mounted = false;
        try
        {
            await Tools.EventuallyAsync(() => Task.FromResult(File.Exists(Path.Combine(fuse, "nbd")) || nbdfuse.HasExited), TimeSpan.FromSeconds(30), "nbdfuse exposing the export");
            if (nbdfuse.HasExited)
            {
                Assert.Fail("nbdfuse exited: " + await nbdfuse.StandardError.ReadToEndAsync());
            }

            var m = await Tools.RunAsync("mount", ["-t", "erofs", "-o", "ro,loop", Path.Combine(fuse, "nbd"), mount]);
            Assert.True(m.ExitCode == 0, "mount: " + m.Err);
            mounted = true;

            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(f.Root, "etc", "hostname")), await File.ReadAllTextAsync(Path.Combine(mount, "etc", "hostname")));
            Assert.Equal(
                SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(f.Root, "usr", "share", "sidus", "big.bin"))),
                SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(mount, "usr", "share", "sidus", "big.bin"))));
            Assert.Equal("big.bin", new FileInfo(Path.Combine(mount, "usr", "share", "sidus", "link")).LinkTarget);
            Assert.Equal(
                SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(f.Root, "lib", "modules", SharedRootFixture.Release, "modules.dep"))),
                SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(mount, "lib", "modules", SharedRootFixture.Release, "modules.dep"))));

            // While mounted, the status API counts the connection on this export.
            var (status, body, _) = await Tools.CurlAsync($"{f.Http}/api/exports", Tools.Bearer(f.AdminToken));
            Assert.Equal(200, status);
            var nbd = JsonDocument.Parse(body).RootElement;
            Assert.True(nbd.GetProperty("enabled").GetBoolean());
            var export = nbd.GetProperty("exports").EnumerateArray().Single(e => e.GetProperty("version").GetString() == f.VersionId);
            Assert.Equal(new FileInfo(f.ExportPath).Length, export.GetProperty("size").GetInt64());
            Assert.True(export.GetProperty("openConnections").GetInt32() >= 1);
            // nbdfuse opens several connections (the export allows multi-conn): together they read the big file.
            Assert.True(nbd.GetProperty("clients").EnumerateArray().Where(c => c.GetProperty("export").GetString() == f.VersionId).Sum(c => c.GetProperty("bytesRead").GetInt64()) > 3_000_000);
        }
        finally
        {
            if (mounted)
            {
                await Tools.RunAsync("umount", [mount]);
            }

            await Tools.RunAsync("umount", [fuse]);
            if (!nbdfuse.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                nbdfuse.Kill();
            }

            Directory.Delete(mount);
            Directory.Delete(fuse);
        }
    }

    [Fact]
    public async Task Exports_TwentyAtOnceBuildOnce_PrunedOnlyWhenGoneAndClosed()
    {
        using (var repository = Repository.Open(f.Home))
        {
            File.WriteAllText(Path.Combine(f.Root, "etc", "motd"), "second version\n");
            new ImageStore(repository).ImportDirectory("other", f.Root, "other image", null, CancellationToken.None);
        }

        var exports = f.Server.Services.GetRequiredService<ErofsExports>();
        // The server reopens the store at most once per ReopenInterval: a lookup right after the import may miss.
        var catalog = (ImageCatalog)f.Server.Services.GetRequiredService(typeof(ImageCatalog));
        var lookup = catalog.Lookup("other");
        for (var attempt = 0; lookup.Files is null && attempt < 20; attempt++)
        {
            await Task.Delay(ImageStoreView.ReopenInterval / 2);
            lookup = catalog.Lookup("other");
        }

        Assert.True(lookup.Files is not null, "the server never saw the new image: " + lookup.Problem);
        var version = lookup.Files.Version;
        var artifacts = f.Server.Services.GetRequiredService<VersionArtifacts>();
        var built = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => artifacts.ExportAsync(version)));
        Assert.All(built, b => Assert.Equal(exports.PathFor(version), b.Path));
        Assert.Single(built.Select(b => b.Verity.KernelArgument).Distinct());
        Assert.True(File.Exists(exports.VerityPathFor(version)));
        Assert.Single(built.Distinct());
        Assert.False(built[0].FromCache);
        Assert.Single(f.Log.Lines, l => l.Contains("Building the erofs export of " + version.Short, StringComparison.Ordinal));

        var opened = await new NbdVersionExports(artifacts, ((ImageCatalog)f.Server.Services.GetRequiredService(typeof(ImageCatalog))).Store).OpenAsync(version.ToString(), null, CancellationToken.None);
        Assert.NotNull(opened.Export);
        Assert.Equal(0, exports.Prune());
        var rm = await Tools.SidusAsync(f.Home, "image", "rm", "other");
        Assert.True(rm.ExitCode == 0, rm.Err);
        var gc = await Tools.SidusAsync(f.Home, "store", "gc");
        Assert.True(gc.ExitCode == 0, gc.Err);
        await Task.Delay(ImageStoreView.ReopenInterval);
        Assert.Equal(0, exports.Prune());
        Assert.True(File.Exists(exports.PathFor(version)), "an export in use was removed");
        Assert.Equal(1, exports.Status().Single(s => s.Version == version).OpenConnections);

        opened.Export!.Dispose();
        await Task.Delay(ImageStoreView.ReopenInterval);
        Assert.Equal(1, exports.Prune());
        Assert.False(File.Exists(exports.PathFor(version)));
        Assert.False(File.Exists(exports.VerityPathFor(version)), "the pruned export's dm-verity record was left");
        Assert.True(File.Exists(f.ExportPath) || !File.Exists(f.ExportPath + ".never"), "the live version's export is untouched");
        Assert.Contains(f.Log.Lines, l => l.Contains("Removed the erofs export of " + version.Short, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Script_SharedNodeWithNbdOff_AsksAgainWithAdvice()
    {
        var options = f.Options with { Nbd = f.Options.Nbd with { Enabled = false } };
        await using var server = await SidusServer.StartAsync(options, b => b.SetMinimumLevel(LogLevel.Warning));
        Assert.Null(server.NbdEndpoint);
        var (status, body, _) = await Tools.CurlAsync($"http://127.0.0.1:{server.HttpEndpoint.Port}/boot/{SharedRootFixture.UrlMac}.ipxe");
        var script = Encoding.UTF8.GetString(body);
        Assert.Equal(200, status);
        Assert.Contains("boots in shared mode, but this server does not serve NBD", script, StringComparison.Ordinal);
        Assert.Contains("?attempt=2", script, StringComparison.Ordinal);
        Assert.DoesNotContain("kernel ", script, StringComparison.Ordinal);
        var (_, api, _) = await Tools.CurlAsync($"http://127.0.0.1:{server.HttpEndpoint.Port}/api/status", Tools.Bearer(f.AdminToken));
        Assert.False(JsonDocument.Parse(api).RootElement.GetProperty("nbd").GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public void Config_NbdTable_ReadAndUnknownKeyRefused()
    {
        var o = ServeConfigFile.Parse("[nbd]\nenabled = false\nport = 10900\nlisten = \"127.0.0.1\"\naddress = \"10.0.0.1\"\n", "t", new ServeOptions { Home = "/h" });
        Assert.False(o.Nbd.Enabled);
        Assert.Equal(10900, o.Nbd.Port);
        Assert.Equal("127.0.0.1", o.Nbd.Listen.ToString());
        Assert.Equal("10.0.0.1", o.Nbd.Address!.ToString());
        Assert.Equal(10809, new ServeOptions { Home = "/h" }.Nbd.Port);
        var e = Assert.Throws<ServeConfigException>(() => ServeConfigFile.Parse("[nbd]\nexport = 1\n", "t", new ServeOptions { Home = "/h" }));
        Assert.Contains("unknown setting 'export'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Endpoint_ConfiguredAddressOrTheOneReached()
    {
        Assert.Equal("10.0.0.1:10809", new SharedExportSettings(new NbdSettings(), () => 10809).Endpoint("10.0.0.1:80"));
        Assert.Equal("[fe80::1]:10809", new SharedExportSettings(new NbdSettings(), () => 10809).Endpoint("[fe80::1]"));
        Assert.Equal("192.168.1.5:7000", new SharedExportSettings(new NbdSettings { Address = System.Net.IPAddress.Parse("192.168.1.5") }, () => 7000).Endpoint("10.0.0.1:80"));
    }

    /// <summary>The NBD URI of VERSION's export (the fixture's by default) with a session of that version.</summary>
    private async Task<string> ExportUrlAsync(string? version = null)
    {
        version ??= f.VersionId;
        var session = await NodeSessions.SessionAsync(f.Server, Sidus.Nodes.MacAddress.Parse("52:54:00:00:02:77"), version);
        return $"nbd://127.0.0.1:{f.NbdPort}/{Sidus.Wire.Contracts.NodeCredentials.ExportName(version, session)}";
    }

    private async Task<string> ScriptAsync()
    {
        var (status, script, _) = await Tools.BootScriptAsync(f.Http, $"/boot/{SharedRootFixture.UrlMac}.ipxe", Limit);
        Assert.True(status == 200 && script.Contains("sidus.nbd=", StringComparison.Ordinal), script);
        return script;
    }
}
