using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Sidus.Artifacts.Exports;
using Sidus.Artifacts.Initramfs;
using Sidus.Artifacts.Versions;
using Sidus.Store;
using Sidus.Store.Build;
using Sidus.Store.Checkout;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Serving;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A small bookworm image with a kernel and systemd, built once with debootstrap and kept under /var/tmp (the
/// directory name carries the recipe's version: change the recipe, bump it), the node agent published with
/// NativeAOT from this checkout, and the kernel + initramfs the builder makes from them.
/// </summary>
public sealed class BootImageFixture
{
    public const string Image = "e2e-debian";
    private const string RecipeVersion = "v1";
    public static readonly IReadOnlyList<string> Packages = ["systemd-sysv", "linux-image-cloud-amd64", "udev"];

    private static readonly Lock Gate = new();

    public BootImageFixture()
    {
        lock (Gate)
        {
            Prepare(out var home, out var repository, out var version, out var agent, out var boot);
            (Home, Repository, Version, AgentPath, Boot) = (home, repository, version, agent, boot);
        }
    }

    private static void Prepare(out string Home, out Repository Repository, out ObjectId Version, out string AgentPath, out AgentBootFiles Boot)
    {
        Home = $"/var/tmp/sidus-e2e/home-{RecipeVersion}";
        Directory.CreateDirectory(Home);
        Repository = Repository.Open(Home);
        if (Repository.Refs.Head(Image) is null)
        {
            Tool.Require("debootstrap", "debootstrap");
            var request = new BuildRequest("bookworm", Debootstrap.DefaultMirror, Packages, "minbase", "amd64");
            new ImageStore(Repository).BuildAsync(Image, request, "e2e boot image " + RecipeVersion, null, CancellationToken.None).GetAwaiter().GetResult();
        }

        (Version, _) = Repository.Resolve(Image);
        AgentPath = PublishAgent();
        Boot = new InitramfsBuilder(Repository).GetOrBuild(Version, AgentPath, CancellationToken.None);
    }

    /// <summary>The image installed to disks by the install tests: this one plus what an install needs.</summary>
    public const string InstallImage = "e2e-install";

    /// <summary>Packages the install needs in the image: sfdisk, mkfs.vfat, GRUB for BIOS and UEFI, update-grub.</summary>
    public static readonly IReadOnlyList<string> InstallPackages = ["fdisk", "dosfstools", "e2fsprogs", "grub-pc-bin", "grub-efi-amd64-bin", "grub2-common"];

    /// <summary>
    /// Makes <see cref="InstallImage"/> once, three versions the boot image's own never see:
    /// @1 the boot image's version imported under the new name;
    /// @2 what an install needs (apt-get from Debian's mirror), and a unit that changes /etc/issue.net at the first boot
    /// from the disk, as an admin's hand would (the drift an update reports);
    /// @3 the update: a file added, one removed, one added among the kernel's modules (so the update needs a reboot).
    /// </summary>
    public string EnsureInstallImage()
    {
        lock (Gate)
        {
            var store = new ImageStore(Repository);
            if (Repository.Refs.Head(InstallImage) is null)
            {
                var tree = Path.Combine(Home, "work", "install-image-base");
                Sidus.Store.Sync.TreeSync.Checkout(Repository, Version, tree, new Sidus.Store.Checkout.CheckoutOptions(), CancellationToken.None);
                store.Import(InstallImage, tree, "e2e install image: the boot image", null, CancellationToken.None);
                Directory.Delete(tree, recursive: true);
            }

            Exec(store, 2, "e2e install image: install tools and a first-boot drift", $$"""
                set -e
                apt-get install -y --no-install-recommends {{string.Join(' ', InstallPackages)}}
                cat > /usr/local/sbin/e2e-drift <<'END'
                #!/bin/sh
                test -e /var/tmp/e2e-drifted || { echo changed-on-the-node >> /etc/issue.net; touch /var/tmp/e2e-drifted; }
                END
                chmod 755 /usr/local/sbin/e2e-drift
                cat > /etc/systemd/system/e2e-drift.service <<'END'
                [Unit]
                Description=E2E: change files as an admin would
                [Service]
                Type=oneshot
                ExecStart=/usr/local/sbin/e2e-drift
                END
                ln -sf ../e2e-drift.service /etc/systemd/system/multi-user.target.wants/e2e-drift.service
                """);
            Exec(store, 3, "e2e install image: the update", "echo updated > /etc/e2e-updated && rm -f /usr/share/doc/fdisk/copyright && " +
                "for d in /usr/lib/modules/*/; do mkdir -p \"$d/updates\" && echo e2e > \"$d/updates/e2e-marker\"; done");
            return InstallImage;
        }
    }

    /// <summary>@4 of <see cref="InstallImage"/>: @3 with mdadm and lvm2, whose hooks put them in the image's initramfs.</summary>
    public string EnsureRaidImage()
    {
        EnsureInstallImage();
        lock (Gate)
        {
            Exec(new ImageStore(Repository), 4, "e2e install image: md RAID and LVM tools", "apt-get install -y --no-install-recommends mdadm lvm2");
            return InstallImage + "@4";
        }
    }

    /// <summary>An image one of whose files has its data damaged in the store: for the install's corrupt-object test only.</summary>
    public const string DamagedImage = "e2e-install-damaged";

    /// <summary>
    /// The file of <see cref="DamagedImage"/> whose data is damaged (the server finds it when it plans the install; in
    /// /boot, near the head of the manifest's order, a node that did fetch would meet it in its first request).
    /// </summary>
    public const string DamagedFile = "/boot/e2e-damaged.bin";

    private const int DamagedFileBytes = 8 << 20;

    /// <summary>
    /// Makes <see cref="DamagedImage"/> once: <see cref="InstallImage"/>@2 with <see cref="DamagedFile"/>, 8 MiB of
    /// random bytes (the import deduplicates the rest, so the new pack holds only that file's chunks, the new trees and
    /// the commit), then one byte flipped in the middle of a frame of that file's chunks: data the store no longer reads
    /// back (the frame fails zstd's checksum), as a disk's damage would leave it, and no other image's. The version's
    /// erofs export, which the install runs the image's tools from, is built first, as a server would have made it
    /// before its disk went bad (after, it cannot be). Kept across runs: a marker in the home names the damaged
    /// version; when the marker does not name the head or the export is gone, the image is made again with new random
    /// bytes, which nothing left over deduplicates. Returns NAME@N.
    /// </summary>
    public string EnsureDamagedImage()
    {
        EnsureInstallImage();
        lock (Gate)
        {
            var marker = Path.Combine(Home, DamagedImage + ".damaged");
            var exports = Path.Combine(Home, ErofsExports.DirectoryName);
            var store = new ImageStore(Repository);
            if (Repository.Refs.Head(DamagedImage) is { } head)
            {
                if (File.Exists(marker) && File.ReadAllText(marker).Trim() == head.ToString() &&
                    File.Exists(Path.Combine(exports, head + ErofsExports.Extension)) && File.Exists(Path.Combine(exports, head + ErofsExports.VerityExtension)))
                {
                    return $"{DamagedImage}@{Repository.ReadCommit(head).Sequence}";
                }

                // Left half made by an interrupted run, or its export removed: made again from the start.
                foreach (var file in Directory.EnumerateFiles(exports, head + ".*"))
                {
                    File.Delete(file);
                }

                store.Remove(DamagedImage);
            }

            var tree = Path.Combine(Home, "work", "damaged-image-tree");
            VersionResult version;
            var packsBefore = Directory.GetFiles(Repository.PackDirectory, "*.idx").ToHashSet(StringComparer.Ordinal);
            try
            {
                store.Checkout(InstallImage + "@2", tree, new CheckoutOptions(), CancellationToken.None);
                File.WriteAllBytes(tree + DamagedFile, RandomNumberGenerator.GetBytes(DamagedFileBytes));
                version = store.ImportDirectory(DamagedImage, tree, $"e2e: {InstallImage}@2 and {DamagedFile}, whose data is then damaged in the store", null, CancellationToken.None);
            }
            finally
            {
                if (Directory.Exists(tree))
                {
                    Directory.Delete(tree, recursive: true);
                }
            }

            // A view opened now: one opened before the import would not see its pack.
            using (var view = new ImageStoreView(Home, NullLogger.Instance))
            {
                new ErofsExports(view, Home, NullLogger.Instance).GetOrBuild(version.Id, CancellationToken.None);
            }

            DamageFileData(version.Id, packsBefore);
            File.WriteAllText(marker, version.Id + "\n");
            return $"{DamagedImage}@{version.Commit.Sequence}";
        }
    }

    /// <summary>
    /// Flips one byte in the middle of the largest frame of file data in the pack that VERSION's import wrote (the one
    /// not in PACKSBEFORE whose index lists the version's commit), then checks that the file's content no longer reads
    /// while the version's trees still do (the manifest is made as the server makes it).
    /// </summary>
    private void DamageFileData(ObjectId version, HashSet<string> packsBefore)
    {
        var (index, records) = Directory.GetFiles(Repository.PackDirectory, "*.idx").Where(i => !packsBefore.Contains(i))
            .Select(i => (Index: i, Records: PackFormat.DecodeIndex(File.ReadAllBytes(i), Path.GetFileName(i))))
            .Single(p => p.Records.Any(r => r.Id == version && r.Kind == ObjectKind.Commit));
        var content = records.Single(r => r.Kind == ObjectKind.ChunkList).Id;
        var frame = records.GroupBy(r => (r.FrameOffset, r.FrameLength)).Where(f => f.All(r => r.Kind == ObjectKind.Blob)).MaxBy(f => f.Key.FrameLength)
            ?? throw new InvalidOperationException($"{index} holds no frame of file data alone");
        using (var pack = new FileStream(Path.ChangeExtension(index, ".pack"), FileMode.Open, FileAccess.ReadWrite))
        {
            pack.Position = frame.Key.FrameOffset + frame.Key.FrameLength / 2;
            var b = pack.ReadByte();
            pack.Position--;
            pack.WriteByte((byte)(b ^ 0x55));
            pack.Flush(flushToDisk: true);
        }

        using var reopened = Repository.Open(Home);
        ContentServer.Manifest(reopened, version, CancellationToken.None);
        Assert.Throws<CorruptObjectException>(() => ContentStore.Read(reopened.Objects, content).Sum(piece => (long)piece.Length));
    }

    /// <summary>Version SEQUENCE of the install image made by SCRIPT when it is not there yet.</summary>
    private void Exec(ImageStore store, int sequence, string message, string script)
    {
        if (Repository.Resolve(InstallImage).Commit.Sequence >= sequence)
        {
            return;
        }

        var (code, _) = store.ExecAsync(InstallImage, ["sh", "-c", script], message, null, CancellationToken.None).GetAwaiter().GetResult();
        if (code != 0)
        {
            throw new InvalidOperationException($"making {InstallImage}@{sequence} failed ({code}): {script}");
        }
    }

    public string Home { get; }
    public Repository Repository { get; }
    public ObjectId Version { get; }
    public string AgentPath { get; }
    public AgentBootFiles Boot { get; }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sidus.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the checkout (Sidus.slnx) above " + AppContext.BaseDirectory);
    }

    private static string PublishAgent()
    {
        var root = RepositoryRoot();
        var output = Path.Combine(root, "tests/Sidus.E2E.Tests/bin/agent");
        // Configuration Aot, as ./sidus publishes: its own obj and bin, so the self-contained build never replaces the
        // framework-dependent sidus-agent.runtimeconfig.json the test projects copy from Release.
        Tool.Run(TimeSpan.FromMinutes(8), Tool.Require("dotnet", "dotnet-sdk"), "publish", Path.Combine(root, "src/Sidus.Agent/Sidus.Agent.csproj"),
            "-c", "Aot", "-p:Optimize=true", "-r", "linux-x64", "-p:PublishAot=true", "-p:SelfContained=true", "-o", output, "--nologo", "-v", "q");
        return Path.Combine(output, "sidus-agent");
    }
}
