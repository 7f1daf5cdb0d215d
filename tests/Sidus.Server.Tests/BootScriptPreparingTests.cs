using Sidus.Wire.Contracts;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sidus.Artifacts;
using Sidus.Artifacts.Versions;
using Sidus.Nodes;
using Sidus.Server.Http;
using Sidus.Store;
using Sidus.Wire.Ipxe;
using Xunit.Abstractions;

namespace Sidus.Server.Tests;

/// <summary>
/// The boot script never waits for a build: while a version's Sidus initramfs and erofs export are made, every
/// machine asking is told at once to ask again (HTTP 200, an iPXE script that sleeps and chains, Retry-After), and
/// one build per version runs however many ask.
/// </summary>
public sealed class BootScriptPreparingTests(SharedRootFixture f, ITestOutputHelper output) : IClassFixture<SharedRootFixture>
{
    private const int Machines = 50;

    /// <summary>Big enough that building its export (checkout, mkfs.erofs, hash tree) outlasts 50 requests by far.</summary>
    private const int BigFileBytes = 128 * 1024 * 1024;

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(300);

    [Fact]
    public async Task Script_FiftyMachinesWhileArtifactsBuild_AllAnsweredAtOnceOneBuildThenTheBootScript()
    {
        var mac = MacAddress.Parse("52:54:00:00:02:50");
        var path = BootScripts.ScriptPath(mac);
        var version = await NewVersionForNodeAsync("big", "b50", mac);
        var artifacts = f.Server.Services.GetRequiredService<VersionArtifacts>();
        Assert.Null(artifacts.TryGetAgentBoot(version));
        Assert.Null(artifacts.TryGetExport(version));
        var buildsBefore = artifacts.BuildsStarted;

        using var http = new HttpClient { BaseAddress = new Uri(f.Http), Timeout = TimeSpan.FromSeconds(60) };
        using var process = Process.GetCurrentProcess();
        var threadsBefore = process.Threads.Count;
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, Machines).Select(async _ =>
        {
            using var response = await http.GetAsync(path);
            return (response.StatusCode, response.Headers.RetryAfter?.Delta, Body: await response.Content.ReadAsStringAsync(), At: clock.Elapsed);
        }));
        process.Refresh();
        var threadsAfter = process.Threads.Count;
        var buildingStill = artifacts.TryGetExport(version) is null;
        output.WriteLine($"{Machines} script requests answered in {clock.Elapsed.TotalMilliseconds:F0} ms (slowest {answers.Max(a => a.At).TotalMilliseconds:F0} ms); " +
            $"process threads {threadsBefore} before, {threadsAfter} after; export still building: {buildingStill}");

        Assert.True(buildingStill, "the build ended before the answers: make the image bigger");
        Assert.All(answers, a =>
        {
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            Assert.Equal(BootScripts.PreparingDelay, a.Delta);
            Assert.Contains($"preparing the Sidus initramfs and the erofs root of big@1 ({version.Short})", a.Body, StringComparison.Ordinal);
            Assert.Contains($"sleep 5\nchain --replace --autofree {path}?attempt=2 ||\n", a.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("kernel ", a.Body, StringComparison.Ordinal);
        });
        Assert.Equal(buildsBefore + 2, artifacts.BuildsStarted);

        var (status, script, preparing) = await Tools.BootScriptAsync(f.Http, path + "?attempt=2", Limit);
        Assert.Equal(200, status);
        Assert.Contains($"kernel /images/{version}/sidus-vmlinuz?ticket=", script, StringComparison.Ordinal);
        Assert.Contains(" sidus.verity=", script, StringComparison.Ordinal);
        output.WriteLine($"the boot script came after {preparing} more preparing answer(s), {clock.Elapsed.TotalSeconds:F1} s after the first ask");
        Assert.Equal(buildsBefore + 2, artifacts.BuildsStarted);
        Assert.Single(f.Log.Lines, l => l.Contains("Building the erofs export of " + version.Short, StringComparison.Ordinal));
        Assert.Single(f.Log.Lines, l => l.Contains("Sidus initramfs of " + version.Short, StringComparison.Ordinal) && l.Contains("built now", StringComparison.Ordinal));
        Assert.Contains(f.Log.Lines, l => l.Contains("Script for " + mac, StringComparison.Ordinal) && l.Contains("preparing", StringComparison.Ordinal));
    }

    [Fact]
    public void PreparingScript_Format_IsFrozen()
    {
        Assert.Equal(
            "#!ipxe\necho Sidus: node n: preparing x (try 1 of 121)\necho Sidus: asking the server again in 5 s\nsleep 5\n" +
            "chain --replace --autofree /boot/52-54-00-00-02-50.ipxe?attempt=2 ||\n" +
            "echo Sidus: the boot server could not be reached; leaving iPXE\nexit 1\n",
            IpxeScript.Retry("node n: preparing x (try 1 of 121)", "/boot/52-54-00-00-02-50.ipxe?attempt=2", BootScripts.PreparingDelay, replace: true));
        Assert.Equal(TimeSpan.FromSeconds(5), BootScripts.PreparingDelay);
        Assert.Equal(TimeSpan.FromMinutes(10), BootScripts.PreparingDelay * BootScripts.PreparingAttempts);
    }

    /// <summary>Imports the fixture's tree plus a big file as IMAGE and adds NODE booting it in ram mode; returns the version once the server sees both.</summary>
    private async Task<Sidus.Store.Objects.ObjectId> NewVersionForNodeAsync(string image, string node, MacAddress mac)
    {
        var big = Path.Combine(f.Root, "usr", "share", "sidus", "huge.bin");
        await File.WriteAllBytesAsync(big, BootableRoot.Random(BigFileBytes));
        try
        {
            using var repository = Repository.Open(f.Home);
            new ImageStore(repository).ImportDirectory(image, f.Root, "big image", null, CancellationToken.None);
        }
        finally
        {
            File.Delete(big);
        }

        await f.Inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = node, Macs = [mac], Settings = new NodeSettings { Image = image, Mode = BootMode.Ram } }));
        var catalog = f.Server.Services.GetRequiredService<ImageCatalog>();
        ImageLookup lookup = new(null, "not looked up");
        await Tools.EventuallyAsync(() =>
        {
            lookup = catalog.Lookup(image);
            return Task.FromResult(lookup.Files is not null && f.Server.Inventory.Current.FindByMac(mac) is not null);
        }, TimeSpan.FromSeconds(30), "the server seeing the new image and node");
        return lookup.Files!.Version;
    }
}
