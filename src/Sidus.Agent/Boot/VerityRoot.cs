namespace Sidus.Agent.Boot;

/// <summary>The root's dm-verity device: created over the NBD device at boot, its table swapped to the RAM copy later.</summary>
internal static class VerityRoot
{
    public const string DeviceName = "sidus-root";
    private static readonly TimeSpan DeviceWait = TimeSpan.FromSeconds(15);
    private const int BlockSize = 4096;
    private const int SectorsPerBlock = BlockSize / 512;

    /// <summary>
    /// The verity table (format 1, SHA-256, 4096-byte blocks) over DEVICE: VERITY's data blocks first, the hash tree
    /// right after them on the same device.
    /// </summary>
    public static DmTarget Table(VerityInfo verity, string device)
    {
        var blocks = verity.DataBlocks.ToString(CultureInfo.InvariantCulture);
        return new DmTarget(0, (ulong)verity.DataBlocks * SectorsPerBlock, "verity",
            $"1 {device} {device} {BlockSize} {BlockSize} {blocks} {blocks} sha256 {Convert.ToHexStringLower(verity.RootHash)} {Convert.ToHexStringLower(verity.Salt)}");
    }

    /// <summary>Maps NAME as a read-only verity device over DEVICE; returns its node (/dev/dm-N).</summary>
    public static async Task<string> MapAsync(string name, VerityInfo verity, string device)
    {
        var (_, minor) = DeviceMapper.Create(name);
        try
        {
            DeviceMapper.Load(name, Table(verity, device), readOnly: true);
            DeviceMapper.Resume(name);
        }
        catch (LinuxException)
        {
            DeviceMapper.Remove(name);
            throw;
        }

        var node = "/dev/dm-" + minor.ToString(CultureInfo.InvariantCulture);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(node))
        {
            if (clock.Elapsed > DeviceWait)
            {
                throw new UnbootableException($"{node} ({name}) did not appear within {DeviceWait.TotalSeconds:F0} s");
            }

            await Task.Delay(50);
        }

        return node;
    }
}
