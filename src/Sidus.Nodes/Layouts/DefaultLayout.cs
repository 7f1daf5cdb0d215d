namespace Sidus.Nodes.Layouts;

/// <summary>
/// The layout a node in mode install gets when neither it, its groups nor the defaults name one: the first
/// non-removable disk, GPT, a bios_grub partition and an ESP (so one disk boots under BIOS and UEFI alike), and the
/// rest as one ext4 root. No swap: a node's memory needs differ too much to guess.
/// </summary>
public static class DefaultLayout
{
    public const string Name = "(default)";

    public const string Text = """
        version: 1
        description: Sidus's default, one ext4 root on the first non-removable disk, boots by BIOS or UEFI
        items:
          - { id: disk0, type: disk, match: { first: true } }
          - { id: bios, type: partition, disk: disk0, size: 1MiB, flags: [bios_grub] }
          - { id: esp, type: partition, disk: disk0, size: 256MiB, flags: [esp] }
          - { id: rootp, type: partition, disk: disk0, size: rest }
          - { id: esp-fs, type: format, volume: esp, fstype: vfat, label: ESP }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4, label: root }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: efi, type: mount, device: esp-fs, path: /boot/efi }
        """;

    public static Layout Parse() => LayoutYaml.Parse(Text, Name);
}
