using Sidus.Store.Trees;

namespace Sidus.Artifacts.Versions;

/// <summary>
/// The kernel of an image version: its path in the image (links resolved), its release (the /lib/modules name, from
/// a file named vmlinuz-RELEASE; null when the file is named otherwise) and its tree entry. The one rule for "the
/// kernel of this version": the boot script's image kernel and the Sidus initramfs builder both ask it.
/// </summary>
public sealed record KernelImage(string Path, string? Release, TreeEntry File)
{
    public const string Prefix = "vmlinuz-";

    /// <summary>The links Debian's kernel postinst keeps pointing at the current kernel, in the order they are asked.</summary>
    public static readonly IReadOnlyList<string> Links = ["/vmlinuz", "/boot/vmlinuz"];

    /// <summary>
    /// The regular file /vmlinuz (or /boot/vmlinuz) leads to; without one, the /boot/vmlinuz-RELEASE with the highest
    /// release (digit runs compared as numbers) among those whose modules are installed (/lib/modules/RELEASE), or
    /// among all of them when none has modules. Null when the version has no kernel.
    /// </summary>
    public static KernelImage? TryFind(VersionFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        foreach (var link in Links)
        {
            if (files.TryResolve(link, out var entry, out var resolved) && entry.Kind == FileKind.Regular)
            {
                var name = System.IO.Path.GetFileName(resolved);
                return new KernelImage(resolved, name.StartsWith(Prefix, StringComparison.Ordinal) ? name[Prefix.Length..] : null, entry);
            }
        }

        var candidates = new List<KernelImage>();
        foreach (var name in (files.List("/boot") ?? []).Select(e => Encoding.UTF8.GetString(e.Name)))
        {
            if (name.StartsWith(Prefix, StringComparison.Ordinal)
                && files.TryResolve("/boot/" + name, out var entry, out var resolved) && entry.Kind == FileKind.Regular)
            {
                candidates.Add(new KernelImage(resolved, name[Prefix.Length..], entry));
            }
        }

        var withModules = candidates.Where(k => files.List("/lib/modules/" + k.Release) is not null).ToList();
        return (withModules.Count > 0 ? withModules : candidates).MaxBy(k => k.Release, ReleaseOrder.Instance);
    }

    /// <summary>The kernel of the version, or a <see cref="StoreException"/> saying none was found.</summary>
    public static KernelImage Find(VersionFiles files) =>
        TryFind(files) ?? throw new StoreException(NoKernel, StoreErrorKind.NotFound);

    /// <summary>What is said of a version without a kernel.</summary>
    public const string NoKernel = "the image has no kernel (/vmlinuz or /boot/vmlinuz-*): install one, e.g. linux-image-cloud-amd64";
}
