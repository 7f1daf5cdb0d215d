using System.Diagnostics;
using Sidus.Store.Build;
using Sidus.Store.Checkout;
using Sidus.Store.Diff;
using Sidus.Store.Maintenance;

namespace Sidus.Cli.Commands.Demo;

/// <summary>
/// `sidus demo`: the main job end to end on embedded defaults: an image built from scratch (with a kernel and
/// systemd), changed in a chroot, versioned, compared, checked out and verified; then a QEMU VM network-boots it from
/// `sidus serve` in a private namespace, in each diskless mode (<see cref="DemoBoot"/>, <see cref="DemoModes"/>).
/// </summary>
public static class DemoCommand
{
    private const string Image = "demo";

    public static Command Create()
    {
        var suite = new Option<string>("--suite") { Description = "Debian suite for the demo image", DefaultValueFactory = _ => "bookworm" };
        var mirror = new Option<string>("--mirror") { Description = "Package mirror", DefaultValueFactory = _ => Debootstrap.DefaultMirror, HelpName = "URL" };
        var fresh = new Option<bool>("--fresh") { Description = "Build the demo image again even if the store has it" };
        var noBoot = new Option<bool>("--no-boot") { Description = "Stop after the store steps (no network boot of a VM)" };
        var command = new Command("demo", $"""
            Show Sidus end to end on one machine with no setup: build a Debian image with debootstrap (reused on later
            runs), change it in a chroot, list and compare its versions, check it out and verify the copy byte for
            byte, then show the store's deduplication. Then boot it: `sidus serve` in a private network namespace and a
            QEMU VM (tcg, iPXE ROM, no disk) that network-boots the image in ram mode (and shared mode), its stages
            shown live until "up", with the timings; everything it created is removed afterwards, also on Ctrl-C.
            Needs root and Debian packages, which ./sidus demo installs first: {string.Join(' ', DemoPackages.Store)};
            for the boot {string.Join(' ', DemoPackages.Boot)}. Uses --home like every verb.
            """)
        {
            suite, mirror, fresh, noBoot,
        };
        command.SetAction((result, cancellation) => CommandRunner.RunAsync(result, cancellation, (images, ct) =>
            RunAsync(images, result.GetValue(suite)!, result.GetValue(mirror)!, result.GetValue(fresh), !result.GetValue(noBoot), ct)));
        return command;
    }

    private static async Task<int> RunAsync(ImageStore images, string suite, string mirror, bool fresh, bool boot, CancellationToken ct)
    {
        if (!FileOps.IsRoot)
        {
            throw new StoreException("the demo builds a root tree and runs a chroot: run it as root (sudo ./sidus demo)", StoreErrorKind.Usage);
        }

        // The boot's tools are checked before anything is built, so a missing package is said at once.
        var tools = DemoPrerequisites.Find(boot);

        var repo = images.Repository;
        var clock = Stopwatch.StartNew();
        using var progress = new ConsoleProgress(enabled: true);

        Step(1, $"An image from scratch: debootstrap {suite} (minbase, a kernel, systemd) straight into the store");
        if (fresh || repo.Refs.Head(Image) is null)
        {
            var build = await images.BuildAsync(Image, new BuildRequest(suite, mirror, DemoBootImage.Packages, "minbase", Debootstrap.HostArchitecture()),
                $"debootstrap {suite} minbase + {string.Join(' ', DemoBootImage.Packages)} (sidus demo)", progress, ct);
            progress.Dispose();
            Commands.Image.VersionOutput.Print(build, json: false);
        }
        else
        {
            var (id, c) = repo.Resolve(Image);
            Say($"reusing {Image}@{c.Sequence} ({id.Short}, {c.Files} files, {Units.Bytes(c.LogicalBytes)}); --fresh builds it again");
            if (DemoBootImage.Missing(repo, id) is { } missing)
            {
                Say($"it lacks {missing} to boot (an older demo image): installing {string.Join(' ', DemoBootImage.Packages)} with sidus image exec");
                var (installed, added) = await images.ExecAsync(Image, DemoBootImage.InstallCommand(), "demo: a kernel and systemd to boot it", progress, ct);
                progress.Dispose();
                if (installed != 0 || added is null)
                {
                    throw new StoreException($"installing the kernel and systemd in the demo image failed with exit code {installed}");
                }

                Commands.Image.VersionOutput.Print(added, json: false);
            }
        }

        var (baseId, baseCommit) = repo.Resolve(Image);
        Step(2, "Change it in a chroot (sidus image exec): a message of the day and an admin user");
        var stamp = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        var (code, changed) = await images.ExecAsync(Image,
            ["/bin/sh", "-c", $"echo 'Booted from a Sidus image ({stamp} UTC)' > /etc/motd && (id ops >/dev/null 2>&1 || useradd -m -s /bin/bash ops)"],
            "demo: motd and an ops user", progress, ct);
        progress.Dispose();
        if (code != 0 || changed is null)
        {
            throw new StoreException($"the chroot command failed with exit code {code}");
        }

        Commands.Image.VersionOutput.Print(changed, json: false);

        Step(3, $"What changed between {Image}@{baseCommit.Sequence} and {Image}@{changed.Commit.Sequence} (sidus image diff)");
        foreach (var c in TreeDiff.Compare(repo, baseCommit.Root, changed.Commit.Root).Take(20))
        {
            var mark = c.Kind switch { ChangeKind.Added => "+", ChangeKind.Removed => "-", _ => "M" };
            Say($"{mark} /{LinuxException.Printable(c.Path).TrimStart('/')}{(c.What.Count > 0 ? "  (" + string.Join(", ", c.What) + ")" : string.Empty)}");
        }

        images.Tag($"{Image}@{changed.Commit.Sequence}", "latest-demo");
        Say($"tagged {Image}@{changed.Commit.Sequence} as {Image}:latest-demo");

        Step(4, "Check the version out into an empty directory, then again over itself (the sync engine)");
        var target = Path.Combine(repo.Home, "work", "demo-checkout");
        if (Directory.Exists(target))
        {
            using var parent = DirectoryHandle.Open(Path.GetDirectoryName(target)!);
            parent.RemoveTree("demo-checkout"u8);
        }

        var timer = Stopwatch.StartNew();
        var first = images.Checkout($"{Image}:latest-demo", target, new CheckoutOptions { Progress = progress }, ct);
        progress.Dispose();
        Say($"into an empty directory: {first.Created} entries, {Units.Bytes(first.BytesWritten)} in {timer.Elapsed.TotalSeconds:0.00} s");
        timer.Restart();
        var again = images.Checkout($"{Image}:latest-demo", target, new CheckoutOptions(), ct);
        Say($"over an identical directory: {again.Created + again.Updated + again.Deleted} changes, {again.Unchanged} files checked in {timer.Elapsed.TotalSeconds:0.00} s");
        File.WriteAllText(Path.Combine(target, "etc", "motd"), "tampered\n");
        File.Delete(Path.Combine(target, "etc", "hostname"));
        var repaired = images.Checkout($"{Image}:latest-demo", target, new CheckoutOptions(), ct);
        Say($"after tampering with two files: {repaired.Updated} updated, {repaired.Created} re-created");

        Step(5, "The store: every version kept, each file stored once (sidus store stats / verify)");
        var stats = new StoreMaintenance(repo).Stats();
        Say($"{stats.Versions} versions of {stats.Images} images: {Units.Bytes(stats.LogicalBytes)} as full copies, {Units.Bytes(stats.StoredBytes)} stored ({stats.DedupRatio:0.0}x)");
        var report = new StoreMaintenance(repo).Verify(null, ct);
        Say(report.Healthy ? $"verify: all {report.ObjectsChecked} objects re-hashed, all {report.VersionsChecked} versions complete" : "verify found damage: run 'sidus store verify'");

        Step(6, "Roll back: the previous tree becomes the newest version again; history is kept");
        var rolled = images.Rollback(Image, baseCommit.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Say($"{Image}@{rolled.Commit.Sequence}: {rolled.Commit.Message}");
        _ = baseId;

        if (tools is not null)
        {
            await DemoModes.RunAsync(images, Image, tools, Step, ct);
        }

        Console.WriteLine();
        Say($"done in {clock.Elapsed.TotalSeconds:0} s. Try: ./sidus image log {Image}; ./sidus image diff {Image}@1 {Image}:latest-demo; ./sidus --help");
        return report.Healthy ? ExitCodes.Success : ExitCodes.Corrupt;
    }

    private static void Step(int number, string title)
    {
        Console.WriteLine();
        Console.WriteLine($"== {number}. {title}");
    }

    private static void Say(string text) => Console.WriteLine("   " + text);
}
