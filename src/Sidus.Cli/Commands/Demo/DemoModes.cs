using System.Diagnostics;
using Sidus.Artifacts.Initramfs;

namespace Sidus.Cli.Commands.Demo;

/// <summary>
/// The demo's boot steps: the image's kernel and the Sidus initramfs, then one network boot per diskless mode against
/// the same server, each shown live to "up" with its timings, and a side-by-side summary.
/// </summary>
internal static class DemoModes
{
    public static async Task RunAsync(ImageStore images, string image, DemoPrerequisites tools, Action<int, string> step, CancellationToken ct)
    {
        var repo = images.Repository;
        var (version, commit) = repo.Resolve(image);
        step(7, $"Boot files of {image}@{commit.Sequence} ({version.Short}): its own kernel and the Sidus initramfs (agent as /init)");
        if (DemoBootImage.Missing(repo, version) is { } missing)
        {
            throw new StoreException($"{image}@{commit.Sequence} lacks {missing}: run ./sidus demo --fresh");
        }

        var timer = Stopwatch.StartNew();
        var boot = new InitramfsBuilder(repo).GetOrBuild(version, tools.Agent, ct);
        Say($"kernel {boot.KernelRelease}, initramfs {Units.Bytes(new FileInfo(boot.InitramfsPath).Length)} with {boot.Modules} modules"
            + (boot.FromCache ? " (cached for this version)" : $" (made in {timer.Elapsed.TotalSeconds:0.0} s, cached for this version)"));

        step(8, "A private network: a namespace with a bridge and a tap, sidus serve in it with its own DHCP and inventory");
        await using var demo = new DemoBoot(repo.Home, image, tools);
        await demo.StartAsync(ct);

        var results = new List<DemoBootResult>();
        BootMode[] modes = [BootMode.Ram, BootMode.Shared];
        var number = 9;
        foreach (var mode in modes)
        {
            var what = mode == BootMode.Ram
                ? "ram mode: it boots from the version's erofs export (every block checked by dm-verity), then copies it into RAM and leaves the server"
                : "shared mode: one read-only erofs export over NBD shared by every node, a tmpfs overlay on top";
            step(number++, $"A VM network-boots {image} in {what}");
            var result = await demo.BootAsync(mode, ct);
            DemoBoot.PrintTimings(result);
            results.Add(result);
        }

        if (results.Count > 1)
        {
            Say("power-on to up: " + string.Join(", ", results.Select(r => $"{r.Mode.ToText()} {r.PowerOnToUp.TotalSeconds:0.0} s")));
        }

    }

    private static void Say(string text) => Console.WriteLine("   " + text);
}
