namespace Sidus.Agent.Boot;

/// <summary>
/// A thread of the watcher that reads the kernel log (/dev/kmsg) and reports dm-verity errors to the server
/// (<see cref="VerityErrorReports"/>). It reads from the oldest record the kernel still holds, not from the end:
/// systemd reads most of the root for the first time between switch_root and the watcher's start, and a block that
/// failed then is as much news as one that fails later. A watcher restarted after a crash reports those again (rate
/// limited); that is rare and better than missing them.
/// </summary>
internal static class KernelLogWatch
{
    public const string Path = "/dev/kmsg";

    /// <summary>Larger than any record (the kernel refuses a read into a buffer too small for the next one).</summary>
    private const int RecordBufferLength = 16384;

    /// <summary>After this many failed reads in a row the log is given up (a broken /dev/kmsg must not spin a core).</summary>
    private const int FailuresBeforeGivingUp = 10;

    private static readonly TimeSpan ReportInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan FailurePause = TimeSpan.FromSeconds(1);

    public static void Start(EventReporter reporter)
    {
        new Thread(() => Run(reporter)) { IsBackground = true, Name = "kmsg" }.Start();
    }

    /// <summary>/dev/kmsg at its oldest record, unbuffered: each read(2) returns one record, a buffer would only split them.</summary>
    public static FileStream Open() => new(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);

    /// <summary>The next record (blocking until the kernel logs one), or null when the kernel gave something else.</summary>
    public static KernelLogRecord? ReadRecord(Stream kmsg, byte[] buffer)
    {
        var n = kmsg.Read(buffer, 0, buffer.Length);
        return n == 0 ? throw new IOException($"{Path} ended") : KernelLogRecord.Parse(buffer.AsSpan(0, n));
    }

    private static void Run(EventReporter reporter)
    {
        FileStream kmsg;
        try
        {
            kmsg = Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            AgentConsole.Fail($"nbd-watch: cannot read the kernel log ({e.Message}): dm-verity errors will not be reported");
            return;
        }

        using (kmsg)
        {
            var reports = new VerityErrorReports(ReportInterval);
            var clock = Stopwatch.StartNew();
            var buffer = new byte[RecordBufferLength];
            var failures = 0;
            while (failures < FailuresBeforeGivingUp)
            {
                KernelLogRecord? record;
                try
                {
                    record = ReadRecord(kmsg, buffer);
                }
                catch (IOException e)
                {
                    // EPIPE: records were overwritten before they were read; the next read goes on from the oldest left.
                    failures++;
                    AgentConsole.Fail($"nbd-watch: reading {Path}: {e.Message}");
                    Thread.Sleep(FailurePause);
                    continue;
                }

                failures = 0;
                if (record is { } r && reports.Offer(r, clock.Elapsed) is { } detail)
                {
                    AgentConsole.Fail("nbd-watch: " + detail);
                    reporter.ReportAsync(NodeEventStages.Failed, detail).GetAwaiter().GetResult();
                }
            }

            AgentConsole.Fail($"nbd-watch: {Path} keeps failing: dm-verity errors will no longer be reported");
        }
    }
}
