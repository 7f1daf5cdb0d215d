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

    private const string SmallRoot = """
        version: 1
        items:
          - { id: d, type: disk, match: { first: true } }
          - { id: bios, type: partition, disk: d, size: 1MiB, flags: [bios_grub] }
          - { id: rootp, type: partition, disk: d, size: 4MiB }
          - { id: srvp, type: partition, disk: d, size: rest }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4 }
          - { id: srv-fs, type: format, volume: srvp, fstype: ext4 }
          - { id: root, type: mount, device: root-fs, path: / }
        """;

    [Fact]
    public async Task LayoutCheck_WithAnImage_SaysWhetherEachFilesystemHoldsItsFiles()
    {
        using var sidus = new SidusProcess();
        var tree = Path.Combine(sidus.Home, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "srv"));
        await File.WriteAllBytesAsync(Path.Combine(tree, "srv", "data"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 << 20));
        Assert.Equal(0, (await sidus.RunAsync("image", "import", "tiny", tree, "-q")).ExitCode);
        var file = Path.Combine(sidus.Home, "small.yaml");
        await File.WriteAllTextAsync(file, SmallRoot);

        // Everything on the 4 MiB root: refused, with the sizes, the table saying which one.
        var full = await sidus.RunAsync("layout", "check", file, "--disk-size", "1G", "--image", "tiny");
        Assert.Equal(1, full.ExitCode);
        Assert.Contains("tiny@1 puts 3.0 MiB of files on /, but filesystem 'root-fs' (ext4 on 'rootp', 4.0 MiB) has room for about 2.7 MiB. Give 'rootp' more room",
            full.Err, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^/\s+root-fs \(ext4\)\s+rootp\s+4 MiB\s+3\.\d+ MiB\s+2\.\d+ MiB\s+NO$", full.Out);
        Assert.All(full.Out.Split('\n'), l => Assert.True(l.Length <= 80, l));

        // /srv on its own filesystem takes its files: everything fits.
        await File.WriteAllTextAsync(file, SmallRoot + "\n  - { id: srv, type: mount, device: srv-fs, path: /srv }\n");
        var fits = await sidus.RunAsync("layout", "check", file, "--disk-size", "1G", "--image", "tiny@1", "--json");
        Assert.True(fits.ExitCode == 0, fits.Err);
        var room = JsonDocument.Parse(fits.Out).RootElement.GetProperty("room").EnumerateArray().ToDictionary(m => m.GetProperty("mount").GetString()!);
        Assert.True(room["/"].GetProperty("fits").GetBoolean());
        Assert.True(room["/srv"].GetProperty("filesBytes").GetInt64() >= 3 << 20);
        Assert.True(room["/srv"].GetProperty("roomBytes").GetInt64() > 900L << 20);

        var noSize = await sidus.RunAsync("layout", "check", file, "--image", "tiny");
        Assert.Equal(1, noSize.ExitCode);
        Assert.Contains("--image needs --disk-size", noSize.Err, StringComparison.Ordinal);
        var unknown = await sidus.RunAsync("layout", "check", file, "--disk-size", "1G", "--image", "nosuch");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--image nosuch: ", unknown.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoredLayouts_SetListShowRm_NodeSetting_AndApplyWithAFile()
    {
        using var sidus = new SidusProcess();
        var file = Path.Combine(sidus.Home, "uefi.yaml");
        await File.WriteAllTextAsync(file, Layout);

        var set = await sidus.RunAsync("layout", "set", "compute", file);
        Assert.True(set.ExitCode == 0, set.Err);
        Assert.Equal("stored layout compute revision 1 (7 items)\n", set.Out);
        Assert.Contains("warning: " + file + ": no bios_grub partition", set.Err, StringComparison.Ordinal);
        var again = await sidus.RunWithInputAsync(Layout.Replace("512MiB", "1GiB", StringComparison.Ordinal), "layout", "set", "compute", "-");
        Assert.Equal("stored layout compute revision 2 (7 items)\n", again.Out);
        var bad = await sidus.RunWithInputAsync(Layout.Replace("fstype: ext4", "fstype: ext5", StringComparison.Ordinal), "layout", "set", "compute", "-");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("<stdin>:7:", bad.Err, StringComparison.Ordinal);

        var shown = await sidus.RunAsync("layout", "show", "compute", "--revision", "1");
        Assert.Equal(Layout + "\n", shown.Out);
        Assert.Contains("revision 1 of 2", shown.Err, StringComparison.Ordinal);
        Assert.Equal(2, (await sidus.RunAsync("layout", "show", "compute", "--revision", "7")).ExitCode);
        Assert.Equal(2, (await sidus.RunAsync("layout", "show", "ghost")).ExitCode);

        Assert.Equal(0, (await sidus.RunAsync("group", "add", "gpu", "--layout", "compute")).ExitCode);
        Assert.Equal(0, (await sidus.RunAsync("node", "add", "n1", "--mac", "52:54:00:00:00:01", "--group", "gpu")).ExitCode);
        var missing = await sidus.RunAsync("node", "set", "n1", "--layout", "ghost");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("names layout 'ghost', which does not exist", missing.Err, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^layout\s+compute\s+group:gpu\s*$", (await sidus.RunAsync("node", "show", "n1")).Out);
        var effective = JsonDocument.Parse((await sidus.RunAsync("node", "show", "n1", "--json")).Out).RootElement.GetProperty("effective").GetProperty("layout");
        Assert.Equal(("compute", "group:gpu"), (effective.GetProperty("value").GetString(), effective.GetProperty("from").GetString()));

        var list = await sidus.RunAsync("layout", "list");
        Assert.Matches(@"(?m)^compute\s+2\s+2\s+\S+ \S+\s+2$", list.Out);
        var listed = JsonDocument.Parse((await sidus.RunAsync("layout", "list", "--json")).Out).RootElement[0];
        Assert.Equal(["node n1", "group:gpu"], listed.GetProperty("usedBy").EnumerateArray().Select(u => u.GetString()));

        var refused = await sidus.RunAsync("layout", "rm", "compute");
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("used by node n1, group:gpu", refused.Err, StringComparison.Ordinal);

        // apply: a layout from a file beside the cluster file, given to the node; the group's is cleared.
        Directory.CreateDirectory(Path.Combine(sidus.Home, "site", "layouts"));
        await File.WriteAllTextAsync(Path.Combine(sidus.Home, "site", "layouts", "big.yaml"), Layout.Replace("512MiB", "2GiB", StringComparison.Ordinal));
        var cluster = Path.Combine(sidus.Home, "site", "cluster.yaml");
        await File.WriteAllTextAsync(cluster, """
            layouts:
              big: { file: layouts/big.yaml }
            groups:
              - name: gpu
            nodes:
              - name: n1
                mac: 52:54:00:00:00:01
                group: gpu
                layout: big
            """);
        var apply = await sidus.RunAsync("apply", "-f", cluster);
        Assert.True(apply.ExitCode == 0, apply.Err);
        Assert.Contains("+ layout big", apply.Out, StringComparison.Ordinal);
        Assert.Contains("layout: compute -> -", apply.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^layout\s+big\s+node\s*$", (await sidus.RunAsync("node", "show", "n1")).Out);

        var rm = await sidus.RunAsync("layout", "rm", "compute");
        Assert.True(rm.ExitCode == 0, rm.Err);
        Assert.Equal(2, (await sidus.RunAsync("layout", "rm", "compute")).ExitCode);
        Assert.Equal(0, (await sidus.RunAsync("node", "set", "n1", "--layout", "")).ExitCode);
        Assert.Matches(@"(?m)^layout\s+-\s+built-in\s*$", (await sidus.RunAsync("node", "show", "n1")).Out);
        foreach (var verb in new[] { "set", "list", "show", "rm" })
        {
            var help = await sidus.RunAsync("layout", verb, "--help");
            Assert.Equal(0, help.ExitCode);
            Assert.Contains("--db", help.Out, StringComparison.Ordinal);
        }
    }
}
