using System.Text.Json;

namespace Sidus.Nodes.Tests;

/// <summary>`sidus layout check` on the real CLI: the plan as text and JSON, errors with line, warnings on stderr.</summary>
public class LayoutCliTests
{
    private const string Layout = """
        version: 1
        items:
          - { id: disk0, type: disk, match: { size: 100G-1T } }
          - { id: esp, type: partition, disk: disk0, size: 512MiB, flags: [esp] }
          - { id: rootp, type: partition, disk: disk0, size: rest }
          - { id: esp-fs, type: format, volume: esp, fstype: vfat }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4 }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: efi, type: mount, device: esp-fs, path: /boot/efi }
        """;

    [Fact]
    public async Task LayoutCheck_PlanWarningsErrors()
    {
        using var sidus = new SidusProcess();
        var file = Path.Combine(sidus.Home, "uefi.yaml");
        Directory.CreateDirectory(sidus.Home);
        await File.WriteAllTextAsync(file, Layout);

        var text = await sidus.RunAsync("layout", "check", file, "--disk-size", "500G");
        Assert.True(text.ExitCode == 0, text.Err);
        Assert.Matches(@"(?m)^esp\s+partition\s+disk0\s+1\s+1 MiB\s+512 MiB\s+flags esp$", text.Out);
        Assert.Matches(@"(?m)^rootp\s+partition\s+disk0\s+2\s+513 MiB\s+499.5 GiB", text.Out);
        Assert.Contains("warning: ", text.Err, StringComparison.Ordinal);
        Assert.Contains("no bios_grub partition on GPT", text.Err, StringComparison.Ordinal);
        Assert.All(text.Out.Split('\n'), l => Assert.True(l.Length <= 80, l));

        var json = await sidus.RunAsync("layout", "check", file, "--disk-size", "disk0=200G", "--json");
        Assert.True(json.ExitCode == 0, json.Err);
        var plan = JsonDocument.Parse(json.Out).RootElement.GetProperty("plan").EnumerateArray().ToDictionary(v => v.GetProperty("id").GetString()!);
        Assert.Equal(1L << 20, plan["esp"].GetProperty("startBytes").GetInt64());
        Assert.Equal((200L << 30) - (1L << 20) - (513L << 20), plan["rootp"].GetProperty("sizeBytes").GetInt64());

        var small = await sidus.RunAsync("layout", "check", file, "--disk-size", "50G");
        Assert.Equal(1, small.ExitCode);
        Assert.Contains("uefi.yaml:3: disk 'disk0': a disk of 50 GiB does not match size 100 GiB-1 TiB", small.Err, StringComparison.Ordinal);
        Assert.Equal(1, (await sidus.RunAsync("layout", "check", file, "--disk-size", "nodisk=1T")).ExitCode);

        await File.WriteAllTextAsync(file, Layout.Replace("fstype: ext4", "fstype: ext5", StringComparison.Ordinal));
        var bad = await sidus.RunAsync("layout", "check", file);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("uefi.yaml:7:", bad.Err, StringComparison.Ordinal);
        Assert.Contains("'ext5' is not one of ext4, xfs, btrfs, vfat, swap", bad.Err, StringComparison.Ordinal);
    }
}
