using Sidus.Store.Maintenance;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>kill -9 a real sidus process in the middle of writing, then check nothing half-done is visible.</summary>
public sealed class CrashTests : IDisposable
{
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Theory]
    [InlineData(150)]
    [InlineData(400)]
    [InlineData(700)]
    [InlineData(1000)]
    [InlineData(1500)]
    public void KilledImport_LeavesTheLastCompleteVersionIntact(int killAfterMs)
    {
        var first = _store.Dir("first");
        File.WriteAllText(Path.Combine(first, "v1"), "version one");
        _store.Import("img", first);
        var before = _store.Repository.Refs.Head("img");

        var big = _store.Dir("big");
        for (var i = 0; i < 60; i++)
        {
            File.WriteAllBytes(Path.Combine(big, $"f{i}"), FormatTests.XorShiftBytes(2_000_000 + i));
        }

        using var process = SidusProcess.Start(_store.Home, "image", "import", "img", big, "-q");
        Thread.Sleep(killAfterMs);
        process.Kill(); // SIGKILL
        process.WaitForExit();

        using var reopened = Repository.Open(_store.Home);
        var head = reopened.Refs.Head("img");
        var history = reopened.History("img").ToList();
        Assert.True(head == before || history.Count == 2, "the image is at the old version or at a complete new one");
        Assert.True(new StoreMaintenance(reopened).Verify(null, CancellationToken.None).Healthy);
        var target = _store.Dir("target");
        new ImageStore(reopened).Checkout("img", target, new Checkout.CheckoutOptions(), CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(target, head == before ? "v1" : "f59")));

        // The next writer clears what the dead one staged, and succeeds.
        var retry = new ImageStore(reopened).ImportDirectory("img", big, "retry", null, CancellationToken.None);
        Assert.Empty(Directory.GetFiles(Path.Combine(_store.Home, "store", "tmp")));
        Assert.Equal(retry.Id, reopened.Refs.Head("img"));
    }

    [Fact]
    public void KilledGc_LosesNothing()
    {
        var source = _store.Dir("source");
        for (var i = 0; i < 40; i++)
        {
            File.WriteAllBytes(Path.Combine(source, $"f{i}"), FormatTests.XorShiftBytes(500_000 + i));
        }

        _store.Import("keep", source);
        File.WriteAllText(Path.Combine(source, "extra"), "extra");
        _store.Import("drop", source);
        _store.Images.Remove("drop");

        using var process = SidusProcess.Start(_store.Home, "store", "gc");
        Thread.Sleep(300);
        process.Kill();
        process.WaitForExit();

        using var reopened = Repository.Open(_store.Home);
        Assert.True(new StoreMaintenance(reopened).Verify(null, CancellationToken.None).Healthy);
        var target = _store.Dir("target");
        new ImageStore(reopened).Checkout("keep", target, new Checkout.CheckoutOptions(), CancellationToken.None);
        Assert.Equal(40, Directory.GetFiles(target).Length);
    }
}
