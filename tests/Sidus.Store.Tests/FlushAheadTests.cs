using System.Security.Cryptography;
using Sidus.Store.Checkout;
using Sidus.Store.Sync;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// <see cref="CheckoutOptions.FlushEvery"/> on a real ext4 filesystem (a loop device, its journal committed only
/// every 60 s): the data reaches the device while the sync still writes, where without it the kernel keeps every
/// byte in memory until someone flushes (its own threshold is a tenth of the memory).
/// </summary>
public sealed class FlushAheadTests : IDisposable
{
    private const int Files = 160;
    private const int FileLength = 256 * 1024;

    private readonly StoreFixture _store = new();
    private readonly TempDirectory _temp = new("sidus-flush");
    private readonly string _target;
    private readonly string _device;

    public FlushAheadTests()
    {
        var image = _temp.Sub("fs.img");
        _target = _temp.Sub("target");
        Directory.CreateDirectory(_target);
        Shell.Sh($"truncate -s 128M '{image}' && mkfs.ext4 -q -F '{image}'");
        _device = Shell.Sh($"losetup --find --show '{image}'").Trim();
        Shell.Sh($"mount -o commit=60 '{_device}' '{_target}'");

        var source = _store.Dir("source");
        for (var i = 0; i < Files; i++)
        {
            File.WriteAllBytes(Path.Combine(source, $"f{i:D3}"), RandomNumberGenerator.GetBytes(FileLength));
        }

        _store.Import("img", source);
    }

    public void Dispose()
    {
        Shell.Run("umount", _target);
        Shell.Run("losetup", "-d", _device);
        _temp.Dispose();
        _store.Dispose();
    }

    /// <summary>Bytes written to the loop device so far (/sys/block/NAME/stat: sectors written, the seventh field).</summary>
    private long DeviceBytesWritten() =>
        long.Parse(File.ReadAllText($"/sys/block/{Path.GetFileName(_device)}/stat").Split(' ', StringSplitOptions.RemoveEmptyEntries)[6]) * 512;

    [Fact]
    public void FlushEvery_DataReachesTheDeviceDuringTheSync()
    {
        const long every = 4L << 20;
        var before = DeviceBytesWritten();
        var version = _store.Repository.Resolve("img").Id;
        var result = TreeSync.Checkout(_store.Repository, version, _target, new CheckoutOptions { FlushEvery = every }, CancellationToken.None);
        var written = DeviceBytesWritten() - before;

        Assert.Equal(Files, result.Created);
        // The first flush began once 4 MiB were written, and the sync waited for its end before returning: no less
        // than that is on the device, though nothing flushed the filesystem after the sync.
        Assert.True(written >= every, $"{written} bytes reached the device during a sync of {Files * FileLength} bytes");
        Assert.All(Directory.GetFiles(_target, "f*"), f => Assert.Equal(FileLength, new FileInfo(f).Length));
    }
}
