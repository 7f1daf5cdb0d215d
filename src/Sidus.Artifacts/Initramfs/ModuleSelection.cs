namespace Sidus.Artifacts.Initramfs;

/// <summary>
/// Which of the image's kernel modules go into the initramfs. The rule: every module a diskless root may need by
/// name (<see cref="ByName"/>: virtio transport and devices, packet sockets, overlay, squashfs, erofs, nbd, NFS,
/// loop, device-mapper with verity (the export's block check), and ext4 with crc32c for shared mode's persistent
/// overlay where they are modules), plus every driver under the directories that hold network and storage
/// controllers and hardware random number generators (<see cref="ByDirectory"/>), plus their dependencies from
/// modules.dep. The agent loads only what the machine needs: drivers whose modules.alias patterns match a device's
/// modalias, then the filesystem modules of its mode. Taking whole driver directories (rather than a list of PCI
/// ids) keeps any NIC the image's kernel supports bootable. The random number generators matter because a diskless
/// node has no saved random seed: without a source, early blocking getrandom() callers (udev, systemd) can wait
/// minutes for the kernel's entropy on a machine that is idle or, in a VM, starved of CPU.
/// </summary>
public static class ModuleSelection
{
    public static readonly IReadOnlyList<string> ByName =
    [
        "virtio_pci", "virtio_net", "virtio_blk", "virtio_scsi", "af_packet", "overlay", "squashfs", "erofs",
        "nbd", "nfs", "nfsv3", "nfsv4", "loop", "ext4", "crc32c_generic", "dm_mod", "dm_verity",
    ];

    public static readonly IReadOnlyList<string> ByDirectory =
    [
        "kernel/drivers/net/ethernet/", "kernel/drivers/net/virtio_net", "kernel/drivers/virtio/",
        "kernel/drivers/block/", "kernel/drivers/nvme/host/", "kernel/drivers/scsi/virtio_scsi",
        "kernel/drivers/net/mii", "kernel/drivers/net/phy/", "kernel/drivers/net/mdio", "kernel/drivers/char/hw_random/",
    ];

    /// <summary>The selected module paths with dependencies, dependencies first.</summary>
    public static List<string> Select(ModuleIndex index)
    {
        var chosen = new List<string>();
        foreach (var name in ByName)
        {
            if (index.PathOf(name) is { } path)
            {
                chosen.Add(path);
            }
        }

        chosen.AddRange(index.Paths.Where(p => ByDirectory.Any(d => p.StartsWith(d, StringComparison.Ordinal))).Order(StringComparer.Ordinal));
        return index.WithDependencies(chosen);
    }
}
