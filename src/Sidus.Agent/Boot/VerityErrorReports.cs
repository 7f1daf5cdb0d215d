namespace Sidus.Agent.Boot;

/// <summary>
/// Which kernel log records the watcher forwards to the server, and how often: after boot a block that fails
/// dm-verity's check only gives its reader an I/O error and the kernel a line ("device-mapper: verity: 43:0: data
/// block 5 is corrupted"), so without this nobody off the node would know its export (or its RAM) went bad. The
/// first line is reported at once; more within <see cref="Interval"/> are counted and told with the next report, so a
/// program reading a corrupt file in a loop cannot flood the server (the kernel itself stops logging a device after
/// 100 corrupt blocks: "reached maximum errors").
/// </summary>
internal sealed class VerityErrorReports(TimeSpan interval)
{
    /// <summary>DM_MSG_PREFIX "verity" under device-mapper's "device-mapper: " (drivers/md/dm-verity-target.c).</summary>
    public const string Prefix = "device-mapper: verity: ";

    private TimeSpan? _last;
    private int _held;

    public TimeSpan Interval { get; } = interval;

    /// <summary>An error of the dm-verity target (a corrupt data or hash block, maximum errors reached); a table the
    /// kernel refuses is logged by dm-table ("device-mapper: table: ...") and only happens at boot, in the initramfs.</summary>
    public static bool IsVerityError(KernelLogRecord record) =>
        record.Level <= KernelLogRecord.ErrorLevel && record.Message.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>What to report for RECORD seen at NOW (a monotonic clock), or null when it is not reported now (not
    /// a dm-verity error, or held back by the rate limit and counted).</summary>
    public string? Offer(KernelLogRecord record, TimeSpan now)
    {
        if (!IsVerityError(record))
        {
            return null;
        }

        if (_last is { } last && now - last < Interval)
        {
            _held++;
            return null;
        }

        var detail = "dm-verity error on the root (its reader got an I/O error): " + record.Message +
                     (_held > 0 ? $" (and {_held} more since the last report)" : string.Empty);
        _last = now;
        _held = 0;
        return detail;
    }
}
