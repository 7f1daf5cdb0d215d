using System.Text.RegularExpressions;
using Sidus.Store;

namespace Sidus.Artifacts.Initramfs;

/// <summary>The kernel an image version boots: its path in the image and its release (the /lib/modules name).</summary>
public sealed record KernelImage(string Path, string Release)
{
    private const string VmlinuzPrefix = "vmlinuz-";

    /// <summary>
    /// The kernel the image's /vmlinuz symlink names (what Debian's kernel postinst keeps current); without one, the
    /// /boot/vmlinuz-RELEASE with the highest release that has modules.
    /// </summary>
    public static KernelImage Find(VersionFiles files)
    {
        foreach (var link in new[] { "/vmlinuz", "/boot/vmlinuz" })
        {
            if (files.TryResolve(link, out var entry, out var resolved) && entry.Kind == Linux.FileKind.Regular)
            {
                var name = System.IO.Path.GetFileName(resolved);
                if (name.StartsWith(VmlinuzPrefix, StringComparison.Ordinal))
                {
                    return new KernelImage(resolved, name[VmlinuzPrefix.Length..]);
                }
            }
        }

        var candidates = (files.List("/boot") ?? [])
            .Select(e => System.Text.Encoding.UTF8.GetString(e.Name))
            .Where(n => n.StartsWith(VmlinuzPrefix, StringComparison.Ordinal))
            .Select(n => n[VmlinuzPrefix.Length..])
            .Where(r => files.List("/lib/modules/" + r) is not null)
            .OrderBy(r => r, Comparer<string>.Create(CompareReleases))
            .ToList();
        return candidates.Count > 0
            ? new KernelImage("/boot/" + VmlinuzPrefix + candidates[^1], candidates[^1])
            : throw new StoreException("the image has no kernel (/vmlinuz or /boot/vmlinuz-*): install one, e.g. linux-image-cloud-amd64", StoreErrorKind.NotFound);
    }

    /// <summary>Orders "6.1.0-9" before "6.1.0-10": numbers compared as numbers.</summary>
    private static int CompareReleases(string a, string b)
    {
        var pa = Regex.Split(a, "([0-9]+)");
        var pb = Regex.Split(b, "([0-9]+)");
        for (var i = 0; i < Math.Min(pa.Length, pb.Length); i++)
        {
            var c = long.TryParse(pa[i], out var na) && long.TryParse(pb[i], out var nb)
                ? na.CompareTo(nb)
                : string.CompareOrdinal(pa[i], pb[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return pa.Length.CompareTo(pb.Length);
    }
}
