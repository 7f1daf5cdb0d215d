namespace Sidus.Agent.Boot;

/// <summary>
/// Whether ram mode's copy of the export fits in the node's memory, decided before the first byte is copied: a copy
/// that fills RAM halfway would only be thrown away, after starving the running system (a diskless node has no swap,
/// and tmpfs pages cannot be dropped: under pressure the kernel's OOM killer picks a process instead).
/// </summary>
internal static class RamBudget
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;

    /// <summary>
    /// The least memory left to the running system once the copy is in: about what a booted minimal system uses
    /// beside its root (a shared node reports 150-180 MiB used at "up", bench/RESULTS.md, of which the kernel and
    /// systemd take most), room for the page cache that reading the root goes through and for the overlay's tmpfs.
    /// </summary>
    public const long MinimumReserveBytes = 128 * MiB;

    /// <summary>On bigger nodes, 1/8 of RAM: their workloads are bigger too, and the kernel's own free-memory
    /// watermarks grow with RAM; a node that keeps less than that free pays with reclaim stalls or the OOM killer.</summary>
    public const int ReserveFractionDivisor = 8;

    /// <summary>What the running system keeps beside the copy on a node with TOTALKIB of RAM.</summary>
    public static long ReserveBytes(long totalKib) => Math.Max(MinimumReserveBytes, totalKib * KiB / ReserveFractionDivisor);

    /// <summary>
    /// Null when a copy of EXPORTBYTES fits in what /proc/meminfo calls MemAvailable (AVAILABLEKIB) while leaving
    /// <see cref="ReserveBytes"/> of TOTALKIB; otherwise why not, in the words the console and the server get.
    /// A missing figure (null) refuses: without it nothing says the copy fits.
    /// </summary>
    public static string? Refusal(ulong exportBytes, long? availableKib, long? totalKib)
    {
        if (availableKib is not { } available || totalKib is not { } total)
        {
            return "ram: staying on the network export: /proc/meminfo gives no MemAvailable/MemTotal, so nothing says the copy fits";
        }

        var reserve = ReserveBytes(total);
        var needed = (long)exportBytes + reserve;
        var availableBytes = available * KiB;
        return availableBytes >= needed
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"ram: staying on the network export: the copy needs {Mebibytes(needed)} MiB ({Mebibytes((long)exportBytes)} MiB export + " +
                $"{Mebibytes(reserve)} MiB kept for the running system), only {availableBytes / MiB} MiB available");
    }

    /// <summary>Rounded up: a need is never shown smaller than it is.</summary>
    private static long Mebibytes(long bytes) => (bytes + MiB - 1) / MiB;
}
