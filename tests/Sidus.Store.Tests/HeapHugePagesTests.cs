using System.Globalization;
using Sidus.Linux;

namespace Sidus.Store.Tests;

/// <summary>
/// <see cref="HeapHugePages"/>: the runtime's heap reservation takes the advice (the kernel marks it "hg" in
/// /proc/self/smaps; a kernel without transparent huge pages refuses it, and nothing else happens), and the lines of
/// /proc/self/maps that are not a large anonymous reservation are left alone.
/// </summary>
public sealed class HeapHugePagesTests
{
    private const string Settings = "/sys/kernel/mm/transparent_hugepage/enabled";

    [Fact]
    public void TheHeapReservation_IsAdvisedForHugePages()
    {
        if (!File.Exists(Settings))
        {
            // A kernel built without them refuses the advice (EINVAL): nothing is advised, and nothing fails.
            Assert.Equal(0, HeapHugePages.Advise());
            return;
        }

        Assert.True(HeapHugePages.Advise() > 0, "no heap reservation was found in /proc/self/maps");

        // Memory the heap commits from now on lies in an advised range: a large array allocated now, and its mapping.
        var array = GC.AllocateUninitializedArray<byte>(64 << 20);
        var address = AddressOf(array);
        var flags = VmFlagsAt(address);
        Assert.True(flags.Split(' ').Contains("hg"), $"the mapping holding a new 64 MiB array (0x{address:x}) has VmFlags '{flags}', no 'hg'");
        GC.KeepAlive(array);
    }

    [Theory]
    [InlineData("7fa5f6c01000-7fb1b91a6000 ---p 00000000 00:00 0", true)]
    [InlineData("7fa5f6c01000-7fa5f6e01000 ---p 00000000 00:00 0", false)] // 2 MiB: a guard or a small reserve
    [InlineData("7fa5f6c01000-7fb1b91a6000 rw-p 00000000 00:00 0", false)] // committed already
    [InlineData("7fa5f6c01000-7fb1b91a6000 ---p 00000000 fe:00 1234 /usr/lib/libfoo.so", false)]
    [InlineData("7fa5f6c01000-7fb1b91a6000 ---p 00000000 00:00 0 [heap]", false)]
    [InlineData("not a maps line", false)]
    public void OnlyLargeAnonymousReservations_AreTaken(string line, bool taken)
    {
        Assert.Equal(taken, HeapHugePages.Reservation(line) is not null);
    }

    private static ulong AddressOf(byte[] array)
    {
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(array, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            return (ulong)handle.AddrOfPinnedObject();
        }
        finally
        {
            handle.Free();
        }
    }

    private static string VmFlagsAt(ulong address)
    {
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && !fields[0].EndsWith(':') && fields[0].Split('-') is [var low, var high])
            {
                inside = ulong.TryParse(low, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start) &&
                         ulong.TryParse(high, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end) &&
                         start <= address && address < end;
            }
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                return line["VmFlags:".Length..].Trim();
            }
        }

        return "(no mapping found)";
    }
}
