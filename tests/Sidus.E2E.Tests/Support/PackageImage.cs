using System.Diagnostics;
using System.Security.Cryptography;
using Sidus.Artifacts.Initramfs;
using Sidus.Store;
using Sidus.Store.Objects;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// The Debian package of this checkout (packaging/build-deb) installed into a copy of the fixture's image the way an
/// administrator would: `sidus image exec IMAGE -- apt-get install` with the .deb on standard input, apt fetching
/// its dependencies from the image's Debian mirror. The image (<see cref="Image"/>, in the fixture's home) is made
/// again only when the .deb or the fixture's version changes: its newest version's message names both.
/// </summary>
internal sealed class PackageImage
{
    public const string Image = BootImageFixture.Image + "-package";
    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan InstallLimit = TimeSpan.FromMinutes(15);
    private static readonly Lock Gate = new();

    /// <summary>Inside the image: the .deb from standard input, its dependencies from the mirror, then the apt caches
    /// removed (a diskless node copies every file of its image).</summary>
    private const string InstallScript =
        "set -e; cat > /tmp/sidus.deb; apt-get update -q; apt-get install -y -q /tmp/sidus.deb; " +
        "rm -f /tmp/sidus.deb; apt-get clean; rm -rf /var/lib/apt/lists/*";

    private PackageImage(string deb, string debSha256, ObjectId version, AgentBootFiles boot, bool fromCache, TimeSpan buildTime, TimeSpan installTime)
    {
        (DebName, DebSha256, Version, Boot, FromCache, BuildTime, InstallTime) = (deb, debSha256, version, boot, fromCache, buildTime, installTime);
    }

    /// <summary>The .deb's file name (it carries the package's version).</summary>
    public string DebName { get; }
    public string DebSha256 { get; }
    public ObjectId Version { get; }
    public AgentBootFiles Boot { get; }

    /// <summary>The image already held this .deb: nothing was installed this time.</summary>
    public bool FromCache { get; }
    public TimeSpan BuildTime { get; }
    public TimeSpan InstallTime { get; }

    /// <summary>The package version the .deb's name says (sidus_VERSION_amd64.deb).</summary>
    public string PackageVersion => DebName.Split('_')[1];

    /// <summary>Builds the .deb in WORK and returns the image that has it installed, made now if needed.</summary>
    public static PackageImage Get(BootImageFixture fixture, string work)
    {
        lock (Gate)
        {
            // Test runs of other checkouts share the fixture's home: one at a time replaces the image (a booted
            // version stays readable after: its id is what the VM boots, and nothing here collects garbage).
            using var homeLock = LockHome(fixture.Home);
            var clock = Stopwatch.StartNew();
            var deb = BuildDeb(work);
            var buildTime = clock.Elapsed;
            var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(deb)));
            var mark = $"{Path.GetFileName(deb)} sha256 {sha} on {BootImageFixture.Image}@{fixture.Version}";
            var repository = fixture.Repository;
            var fromCache = repository.Refs.Head(Image) is { } head && repository.ReadCommit(head).Message.Contains(mark, StringComparison.Ordinal);
            clock.Restart();
            if (!fromCache)
            {
                StartFromFixture(fixture);
                Install(fixture, deb, "e2e package test: apt-get install " + mark);
                repository.ReloadObjects();
            }

            var installTime = clock.Elapsed;
            var version = repository.Refs.Head(Image) ?? throw new InvalidOperationException($"image {Image} has no version after the install");
            var boot = new InitramfsBuilder(repository).GetOrBuild(version, fixture.AgentPath, CancellationToken.None);
            return new PackageImage(Path.GetFileName(deb), sha, version, boot, fromCache, buildTime, installTime);
        }
    }

    /// <summary>An exclusive lock on HOME/IMAGE.lock (flock, released with the handle, also when the process dies).</summary>
    private static FileStream LockHome(string home)
    {
        var path = Path.Combine(home, Image + ".lock");
        var deadline = DateTime.UtcNow + BuildLimit + InstallLimit;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>packaging/build-deb into WORK/deb; returns the .deb's path.</summary>
    private static string BuildDeb(string work)
    {
        var output = Path.Combine(work, "deb");
        var script = Path.Combine(BootImageFixture.RepositoryRoot(), "packaging", "build-deb");
        Tool.Run(BuildLimit, script, "--output", output);
        return Directory.GetFiles(output, "*.deb") switch
        {
            [var deb] => deb,
            var found => throw new InvalidOperationException($"build-deb left {found.Length} .deb files in {output}"),
        };
    }

    /// <summary>Makes the image's newest version the fixture's tree, as a fresh image (an older package is not
    /// upgraded: the same version string with other contents would be skipped by apt).</summary>
    private static void StartFromFixture(BootImageFixture fixture)
    {
        var repository = fixture.Repository;
        var images = new ImageStore(repository);
        if (repository.Refs.Head(Image) is not null)
        {
            images.Remove(Image);
        }

        var from = repository.ReadCommit(fixture.Version);
        using var storeLock = repository.LockForWriting($"e2e: {Image} from {BootImageFixture.Image}", TimeSpan.FromMinutes(2));
        using var writer = repository.CreateWriter();
        repository.CommitVersion(writer, Image, from.Root, new TreeStats(from.Files, from.Entries, from.LogicalBytes),
            $"{BootImageFixture.Image}@{fixture.Version.Short}, to install the package on");
    }

    /// <summary>The real `sidus image exec`, the .deb fed to it on standard input.</summary>
    private static void Install(BootImageFixture fixture, string deb, string message)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "sidus.dll"), "--home", fixture.Home, "image", "exec", Image, "-m", message, "--", "sh", "-c", InstallScript])
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var input = File.OpenRead(deb))
        {
            input.CopyTo(process.StandardInput.BaseStream);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(InstallLimit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sidus image exec {Image} (apt-get install) did not finish within {InstallLimit}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"installing {Path.GetFileName(deb)} into {Image} failed ({process.ExitCode}):\n{stdout.Result}{stderr.Result}");
        }
    }
}
