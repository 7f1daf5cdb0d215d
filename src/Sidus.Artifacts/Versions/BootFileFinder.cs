using Sidus.Store.Trees;

namespace Sidus.Artifacts.Versions;

/// <summary>
/// Finds an image version's own kernel (<see cref="KernelImage"/>'s rule) and initramfs in its tree, the way Debian
/// lays them out: the /initrd.img symlink when present, else the /boot/initrd.img-RELEASE that goes with the kernel,
/// else the newest /boot/initrd.img-*. Links are followed inside the tree only (<see cref="VersionFiles"/>); the
/// host's files never count.
/// </summary>
public static class BootFileFinder
{
    private const string InitrdPrefix = "initrd.img-";

    /// <summary>Returns the boot files, or null with <paramref name="problem"/> saying what is missing.</summary>
    public static ImageBootFiles? Find(Repository repository, ObjectId version, Commit commit, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(commit);
        var files = new VersionFiles(repository, commit);
        if (KernelImage.TryFind(files) is not { } kernel)
        {
            problem = $"image {commit.Image}@{commit.Sequence} has no kernel (/vmlinuz or /boot/vmlinuz-*): install a kernel package in it";
            return null;
        }

        if (kernel.File.Extents is not null)
        {
            problem = $"the kernel {kernel.Path} of {commit.Image}@{commit.Sequence} is a sparse file, which is not served";
            return null;
        }

        var initrd = Regular(files, "/initrd.img")
            ?? (kernel.Release is null ? null : Regular(files, "/boot/" + InitrdPrefix + kernel.Release))
            ?? Newest(files);
        problem = null;
        return new ImageBootFiles(
            version, commit.Image, commit.Sequence,
            new BootFile(kernel.Path, kernel.File.Content, kernel.File.Size),
            initrd is { Entry.Extents: null } i ? new BootFile(i.Path, i.Entry.Content, i.Entry.Size) : null);
    }

    private static (string Path, TreeEntry Entry)? Regular(VersionFiles files, string path) =>
        files.TryResolve(path, out var entry, out var resolved) && entry.Kind == FileKind.Regular ? (resolved, entry) : null;

    private static (string Path, TreeEntry Entry)? Newest(VersionFiles files)
    {
        var best = (files.List("/boot") ?? [])
            .Where(e => e.Kind == FileKind.Regular)
            .Select(e => Encoding.UTF8.GetString(e.Name))
            .Where(n => n.StartsWith(InitrdPrefix, StringComparison.Ordinal))
            .Max(ReleaseOrder.Instance);
        return best is null ? null : Regular(files, "/boot/" + best);
    }
}
