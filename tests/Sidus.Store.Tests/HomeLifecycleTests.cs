using System.Text.Json;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// What is built from a version goes when the version goes, and `store stats` accounts for every byte of the home:
/// the real CLI on a real store, a real exec work tree and a real erofs export laid out where `sidus serve` keeps them.
/// </summary>
public sealed class HomeLifecycleTests : IDisposable
{
    private readonly TempDirectory _temp = new("sidus-home-life");

    public void Dispose() => _temp.Dispose();

    private string Home => _temp.Sub("home");

    private (int Code, string Output, string Error) Ok(params string[] args)
    {
        var r = SidusProcess.Run(Home, args);
        Assert.True(r.Code == 0, $"sidus {string.Join(' ', args)}: exit {r.Code}: {r.Error}");
        return r;
    }

    private JsonElement Json(params string[] args) => JsonDocument.Parse(Ok(args).Output).RootElement.Clone();

    private long DuBytes()
    {
        var (code, output, error) = Shell.Run("du", "-sb", Home);
        Assert.True(code == 0, error);
        return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private void StatsMatchDu(string when)
    {
        var stats = Json("store", "stats", "--json");
        var kinds = stats.GetProperty("home_kinds").EnumerateArray().ToList();
        var total = stats.GetProperty("home_bytes").GetInt64();
        Assert.Equal(total, kinds.Sum(k => k.GetProperty("bytes").GetInt64()));
        Assert.True(DuBytes() == total, $"{when}: store stats says {total} bytes, du -sb {DuBytes()}");
    }

    private static long Kind(JsonElement stats, string kind) =>
        stats.GetProperty("home_kinds").EnumerateArray().Single(k => k.GetProperty("kind").GetString() == kind).GetProperty("bytes").GetInt64();

    [Fact]
    public void Gc_CollectsExportsAndWorkTreesOfGoneVersions_StatsMatchDu()
    {
        var root = _temp.Sub("root");
        BusyboxRoot.Create(root);
        Ok("image", "import", "mini", root, "-q");
        Ok("image", "exec", "mini", "--", "/bin/touch", "/etc/one");
        Ok("image", "exec", "mini", "--", "/bin/touch", "/etc/two");
        Ok("image", "import", "other", root, "-q");
        Ok("image", "exec", "other", "--", "/bin/touch", "/etc/three");
        var versions = Json("image", "log", "mini", "--json").EnumerateArray().Select(v => v.GetProperty("id").GetString()!).ToList();
        Assert.Equal(3, versions.Count);

        // Exports of the oldest and newest version, where the server keeps them (HOME/exports/ID.erofs).
        var exports = Path.Combine(Home, "exports");
        Directory.CreateDirectory(exports);
        Ok("image", "export", "mini@1", "--format", "erofs", "-o", Path.Combine(exports, versions[2] + ".erofs"));
        Ok("image", "export", "mini@3", "--format", "erofs", "-o", Path.Combine(exports, versions[0] + ".erofs"));
        StatsMatchDu("with exports and work trees");
        var before = Json("store", "stats", "--json");
        Assert.True(Kind(before, "exports") > 0 && Kind(before, "work") > 0 && Kind(before, "objects") > 0, before.ToString());

        Ok("image", "rm", "mini@1");
        Ok("image", "rm", "other");
        var gc = Json("store", "gc", "--json");
        Assert.Equal(1, gc.GetProperty("export_files_removed").GetInt32());
        Assert.Equal(1, gc.GetProperty("work_trees_removed").GetInt32());
        Assert.False(File.Exists(Path.Combine(exports, versions[2] + ".erofs")), "the removed version's export is collected");
        Assert.True(File.Exists(Path.Combine(exports, versions[0] + ".erofs")), "a live version's export stays");
        Assert.False(Directory.Exists(Path.Combine(Home, "work", "other")), "the removed image's work tree is collected");
        Assert.True(Directory.Exists(Path.Combine(Home, "work", "mini")), "a live image's work tree stays");
        StatsMatchDu("after gc");
        Assert.True(gc.GetProperty("objects_removed").GetInt64() > 0, "gc freed the objects only the removed versions had: " + gc);
        Ok("store", "verify");
    }
}
