namespace Sidus.Store.Capture;

/// <summary>
/// What a capture leaves out by default (docs/capture.md, "What is left out"): the union SystemImager's
/// getimage.exclude and Bright's excludelistgrab ship, minus /var/cache/debconf (debconf's answers belong to the image).
/// "/dir/*" keeps the directory and leaves out what is in it. The image's own list (<see cref="ImageListPath"/> in its
/// newest version) and the command's --exclude are added to these.
/// </summary>
public static class CaptureExcludes
{
    /// <summary>Where an image keeps the excludes of its own captures (<see cref="ImageListFile"/>: one absolute path a line, # comments).</summary>
    public const string ImageListPath = "/etc/sidus/capture.exclude";

    public static readonly IReadOnlyList<(string Path, string Why)> Defaults =
    [
        ("/proc/*", "kernel interfaces, never files"),
        ("/sys/*", "kernel interfaces, never files"),
        ("/dev/*", "made by the kernel (devtmpfs) at boot"),
        ("/run/*", "state of the running system"),
        ("/tmp/*", "scratch space of running programs"),
        ("/var/tmp/*", "scratch space that survives reboots"),
        ("/var/log/*", "the client's own logs and journal"),
        ("/var/cache/apt/*", "apt's downloaded packages and lists: rebuilt by apt"),
        ("/var/cache/man/*", "man's index: rebuilt by mandb"),
        ("/var/lib/dhcp/*", "the client's DHCP leases"),
        ("/var/lib/dhclient/*", "the client's DHCP leases"),
        ("/var/lib/NetworkManager/*", "the client's leases and connection state"),
        ("/var/lib/systemd/random-seed", "the client's entropy seed: never the same on two machines"),
        ("/var/lib/systemd/timers", "when the client's timers last ran"),
        ("/var/lib/systemd/timesync", "the client's clock's last known time"),
        ("/var/lib/sidus", "the node's key and the walker's state cache: never part of an image"),
        ("/etc/machine-id", "the client's identity for systemd and journald"),
        ("/var/lib/dbus/machine-id", "the same identity, for D-Bus"),
        ("/etc/ssh/ssh_host_rsa_key", "the client's SSH host keys: a node must not pose as it"),
        ("/etc/ssh/ssh_host_rsa_key.pub", "the client's SSH host keys"),
        ("/etc/ssh/ssh_host_ecdsa_key", "the client's SSH host keys"),
        ("/etc/ssh/ssh_host_ecdsa_key.pub", "the client's SSH host keys"),
        ("/etc/ssh/ssh_host_ed25519_key", "the client's SSH host keys"),
        ("/etc/ssh/ssh_host_ed25519_key.pub", "the client's SSH host keys"),
        ("/etc/ssh/ssh_host_dsa_key", "the client's SSH host keys"),
        ("/etc/ssh/ssh_host_dsa_key.pub", "the client's SSH host keys"),
        ("/etc/hostname", "the client's name"),
        ("/etc/fstab", "the client's disks: an install writes each node's own"),
        ("/etc/adjtime", "the client's clock drift"),
        ("/etc/blkid.tab", "the client's block devices"),
        ("/etc/mdadm/mdadm.conf", "the client's md arrays: an install writes each node's own"),
        ("/etc/lvm/backup/*", "LVM metadata of the client's disks"),
        ("/etc/lvm/archive/*", "LVM metadata of the client's disks"),
        ("/etc/lvm/cache/*", "LVM's cache of the client's disks"),
        ("/etc/udev/rules.d/70-persistent-net.rules", "network names bound to the client's MAC addresses"),
        ("/media/*", "removable media mounted on the client"),
        ("/lost+found", "fsck's, on the client's root filesystem"),
        ("/swapfile", "the client's swap space"),
    ];

    /// <summary>
    /// Defaults that are a machine's identity, secrets or disks: left out of a capture, and never kept from the
    /// image's previous version either (<see cref="ExcludedPaths"/>): an image must not carry one machine's keys.
    /// </summary>
    public static readonly IReadOnlyList<string> NeverKept =
    [
        "/var/lib/sidus", "/etc/machine-id", "/var/lib/dbus/machine-id", "/var/lib/systemd/random-seed",
        "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ecdsa_key.pub",
        "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/ssh/ssh_host_dsa_key", "/etc/ssh/ssh_host_dsa_key.pub",
        "/var/lib/dhcp/*", "/var/lib/dhclient/*", "/var/lib/NetworkManager/*", "/etc/blkid.tab", "/etc/mdadm/mdadm.conf",
        "/etc/lvm/backup/*", "/etc/lvm/archive/*", "/etc/lvm/cache/*", "/etc/udev/rules.d/70-persistent-net.rules", "/swapfile",
    ];

    /// <summary>The defaults, then the image's own, then the command's, each path once.</summary>
    public static List<string> Combine(IEnumerable<string> image, IEnumerable<string> command) =>
        Defaults.Select(d => d.Path).Concat(image).Concat(command).Distinct(StringComparer.Ordinal).ToList();
}
