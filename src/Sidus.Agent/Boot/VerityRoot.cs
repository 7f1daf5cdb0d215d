using System.Globalization;
using Sidus.Linux;

namespace Sidus.Agent.Boot;

/// <summary>The root's dm-verity device: created over the NBD device at boot, its table swapped to the RAM copy later.</summary>
internal static class VerityRoot
{
    public const string DeviceName = "sidus-root";
    private static readonly TimeSpan DeviceWait = TimeSpan.FromSeconds(15);

    /// <summary>Maps NAME as a read-only verity device over DEVICE; returns its node (/dev/dm-N).</summary>
    public static async Task<string> MapAsync(string name, VerityParameters verity, string device)
    {
        var (_, minor) = DeviceMapper.Create(name);
        try
        {
            DeviceMapper.Load(name, verity.Target(device), readOnly: true);
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
