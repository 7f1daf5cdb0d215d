using Sidus.Cli;
using Sidus.Store.Maintenance;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

public sealed class DamageTests : IDisposable
{
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void DamagedPack_IsDetectedByCheckoutAndVerify_AndNamesTheBrokenVersions()
    {
        var source = _store.Dir("source");
        File.WriteAllBytes(Path.Combine(source, "only"), FormatTests.XorShiftBytes(200_000));
        _store.Import("img", source);
        _store.Images.Tag("img", "prod");

        var pack = Directory.GetFiles(Path.Combine(_store.Home, "store", "packs"), "*.pack").Single();
        using (var stream = new FileStream(pack, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = 100;
            var b = stream.ReadByte();
            stream.Position = 100;
            stream.WriteByte((byte)(b ^ 0x55));
        }

        using var reopened = Repository.Open(_store.Home);
        var images = new ImageStore(reopened);
        var target = _store.Dir("target");
        var error = Assert.ThrowsAny<StoreException>(() =>
            images.Checkout("img", target, new Checkout.CheckoutOptions(), CancellationToken.None));
        Assert.Equal(StoreErrorKind.Corrupt, error.Kind);
        Assert.False(File.Exists(Path.Combine(target, "only")), "no damaged file may be left in place");
        Assert.Empty(Directory.GetFileSystemEntries(target));

        var report = new StoreMaintenance(reopened).Verify(null, CancellationToken.None);
        Assert.False(report.Healthy);
        var damaged = Assert.Single(report.Damaged);
        Assert.Contains("img@1", damaged.BrokenVersions);

        var (code, output, _) = SidusProcess.Run(_store.Home, "store", "verify");
        Assert.Equal(ExitCodes.Corrupt, code);
        Assert.Contains("DAMAGED " + damaged.Id, output);
        Assert.Contains("img@1", output);
    }

    [Fact]
    public void MissingPack_IsReportedAsMissingObjects()
    {
        var source = _store.Dir("source");
        File.WriteAllText(Path.Combine(source, "a"), "a");
        _store.Import("img", source);
        File.WriteAllText(Path.Combine(source, "b"), "b");
        _store.Import("img", source);

        var second = Directory.GetFiles(Path.Combine(_store.Home, "store", "packs"), "*.idx")
            .OrderBy(File.GetLastWriteTimeUtc).Last();
        File.Delete(second);
        File.Delete(Path.ChangeExtension(second, ".pack"));

        using var reopened = Repository.Open(_store.Home);
        var report = new StoreMaintenance(reopened).Verify(null, CancellationToken.None);
        Assert.False(report.Healthy);
        Assert.Contains(report.Damaged, d => d.BrokenVersions.Contains("img@2") || d.Problem.Contains("missing"));
    }
}
