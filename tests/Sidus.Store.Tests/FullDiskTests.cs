using Sidus.Cli;
using Sidus.Store.Maintenance;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>A store on a small tmpfs that an import overfills: a clear error, and nothing lost.</summary>
public sealed class FullDiskTests : IDisposable
{
    private readonly TempDirectory _temp = new("sidus-full");
    private readonly string _home;

    public FullDiskTests()
    {
        _home = _temp.Sub("home");
        Directory.CreateDirectory(_home);
        Shell.Sh($"mount -t tmpfs -o size=24m sidus-test-full '{_home}'");
    }

    public void Dispose()
    {
        Shell.Run("umount", _home);
        _temp.Dispose();
    }

    [Fact]
    public void ImportOntoAFullDisk_FailsClearly_AndKeepsTheLastVersion()
    {
        var small = _temp.Sub("small");
        Directory.CreateDirectory(small);
        File.WriteAllText(Path.Combine(small, "a"), "a");
        var first = SidusProcess.Run(_home, "image", "import", "img", small, "-q");
        Assert.Equal(0, first.Code);

        var big = _temp.Sub("big");
        Directory.CreateDirectory(big);
        for (var i = 0; i < 8; i++)
        {
            var data = new byte[5_000_000];
            new Random(i).NextBytes(data);
            File.WriteAllBytes(Path.Combine(big, $"random{i}"), data);
        }

        var (code, _, error) = SidusProcess.Run(_home, "image", "import", "img", big, "-q");

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("disk is full", error);
        Assert.DoesNotContain("internal error", error);
        using var repository = Repository.Open(_home);
        Assert.Single(repository.History("img"));
        Assert.True(new StoreMaintenance(repository).Verify(null, CancellationToken.None).Healthy);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_home, "store", "tmp")), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }
}
