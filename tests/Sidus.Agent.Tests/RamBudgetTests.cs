using Sidus.Agent.Boot;

namespace Sidus.Agent.Tests;

/// <summary>Ram mode's decision to copy the export into RAM or stay on the network export, from /proc/meminfo's figures.</summary>
public sealed class RamBudgetTests
{
    private const long MiB = 1024 * 1024;

    /// <summary>The E2E image's export with its hash tree: 394 MiB.</summary>
    private const ulong Export = 394 * MiB;

    [Fact]
    public void Refusal_SmallNode_SaysNeededAndAvailable()
    {
        // A 640 MiB VM at "up": MemTotal 600 MiB, MemAvailable 410 MiB; 394 + 128 = 522 MiB needed.
        var why = RamBudget.Refusal(Export, availableKib: 410 * 1024, totalKib: 600 * 1024);
        Assert.Equal("ram: staying on the network export: the copy needs 522 MiB (394 MiB export + 128 MiB kept for the running system), " +
                     "only 410 MiB available", why);
    }

    [Fact]
    public void Refusal_RoomyNode_Null()
    {
        // A 1536 MiB VM at "up" (bench/RESULTS.md: about 180 MiB used).
        Assert.Null(RamBudget.Refusal(Export, availableKib: 1300 * 1024, totalKib: 1480 * 1024));
    }

    [Fact]
    public void Refusal_ExactlyExportPlusReserve_NullAndOneKibLessRefuses()
    {
        const long total = 1024 * 1024; // 1 GiB: the reserve is its eighth, 128 MiB
        const long fits = (394 + 128) * 1024;
        Assert.Null(RamBudget.Refusal(Export, fits, total));
        Assert.NotNull(RamBudget.Refusal(Export, fits - 1, total));
    }

    [Theory]
    [InlineData(512L * 1024, 128L * MiB)] // small node: the floor
    [InlineData(1024L * 1024, 128L * MiB)] // 1 GiB: the floor and the eighth meet
    [InlineData(16L * 1024 * 1024, 2048L * MiB)] // 16 GiB: an eighth
    public void ReserveBytes_Total_FloorOrEighth(long totalKib, long expected)
    {
        Assert.Equal(expected, RamBudget.ReserveBytes(totalKib));
    }

    [Fact]
    public void Refusal_BigNodeBigExport_ReserveIsAnEighth()
    {
        // 16 GiB node, 14 GiB available, a 12 GiB export: 12 + 2 = 14 GiB fits exactly; 12.5 GiB does not.
        Assert.Null(RamBudget.Refusal(12UL * 1024 * MiB, 14L * 1024 * 1024, 16L * 1024 * 1024));
        Assert.Contains("needs 14848 MiB", RamBudget.Refusal(12UL * 1024 * MiB + 512 * MiB, 14L * 1024 * 1024, 16L * 1024 * 1024), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 600L * 1024)]
    [InlineData(410L * 1024, null)]
    public void Refusal_FigureMissing_Refuses(long? available, long? total)
    {
        Assert.Contains("nothing says the copy fits", RamBudget.Refusal(Export, available, total), StringComparison.Ordinal);
    }
}
