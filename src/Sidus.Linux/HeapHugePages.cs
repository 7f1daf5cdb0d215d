namespace Sidus.Linux;

/// <summary>
/// Transparent huge pages for the runtime's heap. A program that fills fresh memory fast (a sync allocates its manifest,
/// tree and state caches, and receives and decompresses contents, all in a pause of the collector) pays one page fault
/// per 4 KiB it first touches: 15,000 in an update of 1,900 files, 30,000 in an install, and on a virtual machine each
/// costs several microseconds (12 us measured here: a quarter of an update's CPU). With huge pages one fault maps
/// 2 MiB. Kernels in "madvise" mode (Debian's default, /sys/kernel/mm/transparent_hugepage/enabled) give them only to
/// ranges that ask: this asks for the heap's reservation, the large inaccessible anonymous ranges the runtime maps at
/// start and commits from as it grows (found in /proc/self/maps: the runtime does not say where its heap is). Advice
/// only: where the kernel has no huge pages, or the runtime lays its heap out otherwise, nothing changes.
/// </summary>
public static class HeapHugePages
{
    /// <summary>A reservation this large is the heap's: the runtime's other anonymous mappings are far smaller.</summary>
    private const ulong MinimumReservation = 64UL << 20;

    private static int s_advised = -1;

    /// <summary>Advises the heap's reservations, once a process; returns how many ranges took the advice.</summary>
    public static int Advise()
    {
        if (Volatile.Read(ref s_advised) is var done and >= 0)
        {
            return done;
        }

        var advised = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                if (Reservation(line) is var (start, length) && Libc.madvise((nint)start, (nuint)length, Libc.MADV_HUGEPAGE) == 0)
                {
                    advised++;
                }
            }
        }
        catch (IOException)
        {
            // No /proc (an initramfs before it is mounted): the heap keeps small pages.
        }

        Volatile.Write(ref s_advised, advised);
        return advised;
    }

    /// <summary>The range of a /proc/self/maps LINE when it is a large anonymous mapping with no access yet.</summary>
    public static (ulong Start, ulong Length)? Reservation(string line)
    {
        // "7fa5f6c01000-7fb1b91a6000 ---p 00000000 00:00 0": address range, permissions, offset, device, inode and,
        // for a file or a named mapping ([heap], [stack]), a sixth field.
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5 || fields[1] != "---p" || fields[4] != "0" || fields[0].Split('-') is not [var low, var high] ||
            !ulong.TryParse(low, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start) ||
            !ulong.TryParse(high, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end) || end - start < MinimumReservation)
        {
            return null;
        }

        return (start, end - start);
    }
}
