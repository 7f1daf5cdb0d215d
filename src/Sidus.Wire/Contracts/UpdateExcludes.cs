namespace Sidus.Wire.Contracts;

/// <summary>
/// The paths an update of an installed node leaves alone by default (docs/installed-nodes.md, "Updating"): neither
/// written, deleted nor reported as drift. The one list: `sidus-agent update` adds the node's override paths and
/// the job's excludes to it (`sidus node update` puts there the version's <see cref="ImageListPath"/>, the node's
/// update excludes from the inventory and --exclude). Mounts of other filesystems (a preserved /data) are never
/// crossed, whatever the list says.
/// </summary>
public static class UpdateExcludes
{
    /// <summary>Where an image keeps what updates of its nodes leave alone (one absolute path a line, # comments), read from the version the nodes are brought to.</summary>
    public const string ImageListPath = "/etc/sidus/update.exclude";

    public static readonly IReadOnlyList<(string Path, string Why)> Defaults =
    [
        ("/home", "users' files live there, not in the image"),
        ("/root", "root's shell history, keys and scratch files"),
        ("/tmp", "scratch space of running programs"),
        ("/var/tmp", "scratch space that survives reboots"),
        ("/var/log", "the node's own logs and journal"),
        ("/var/cache", "caches the node's programs rebuild (apt's, man's); the image's are no better"),
        ("/var/spool", "mail and print queues, cron tabs of users"),
        ("/var/backups", "dpkg's and passwd's backups of the node"),
        ("/var/lib/dhcp", "the node's DHCP leases"),
        ("/var/lib/systemd/random-seed", "the node's entropy seed: never the same on two machines"),
        ("/var/lib/systemd/timers", "when the node's timers last ran"),
        ("/var/lib/systemd/timesync", "the clock's last known time"),
        ("/var/lib/systemd/linger", "users allowed to linger on this node"),
        ("/etc/machine-id", "the node's identity for systemd and journald"),
        ("/var/lib/dbus/machine-id", "the same identity, for D-Bus"),
        ("/etc/ssh/ssh_host_rsa_key", "the node's SSH host keys: a new one warns every user"),
        ("/etc/ssh/ssh_host_rsa_key.pub", "the node's SSH host keys"),
        ("/etc/ssh/ssh_host_ecdsa_key", "the node's SSH host keys"),
        ("/etc/ssh/ssh_host_ecdsa_key.pub", "the node's SSH host keys"),
        ("/etc/ssh/ssh_host_ed25519_key", "the node's SSH host keys"),
        ("/etc/ssh/ssh_host_ed25519_key.pub", "the node's SSH host keys"),
        ("/etc/fstab", "written by the install for this node's disks (by UUID)"),
        ("/etc/mdadm/mdadm.conf", "written by the install: this node's md arrays"),
        ("/etc/lvm/backup", "LVM's copies of this node's volume group metadata"),
        ("/etc/lvm/archive", "LVM's history of this node's volume group metadata"),
        ("/etc/hostname", "the node's name"),
        ("/etc/adjtime", "the node's clock drift"),
        ("/boot/grub", "GRUB's own files: written on the node by grub-install (its modules) and update-grub (grub.cfg, regenerated when the kernel changes)"),
        ("/boot/efi", "the EFI system partition: the bootloader's, written by the install"),
        ("/lost+found", "fsck's, on the node's root filesystem"),
        ("/proc", "kernel interfaces, never files"),
        ("/sys", "kernel interfaces, never files"),
        ("/dev", "device nodes made by the kernel at boot"),
        ("/run", "runtime state, a tmpfs"),
        ("/mnt", "where the node mounts what it mounts"),
        ("/media", "removable media"),
        .. InstalledNode.AlwaysKept.Select(path => (path, "the node's own key, settings and sync state")),
    ];

    /// <summary>The default paths alone.</summary>
    public static IEnumerable<string> Paths => Defaults.Select(d => d.Path);
}
