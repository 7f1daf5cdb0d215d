using Sidus.Artifacts.Initramfs;
using Sidus.Store;
using Sidus.Store.Build;
using Sidus.Store.Objects;

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
