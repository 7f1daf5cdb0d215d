namespace Sidus.Agent.Boot;

/// <summary>
/// One record read from /dev/kmsg (Documentation/ABI/testing/dev-kmsg): "PRIORITY,SEQUENCE,MICROSECONDS,FLAG[,...];"
/// then the message up to a newline, then optional continuation lines (" SUBSYSTEM=block" ...) that are not part of
/// the message. PRIORITY is facility * 8 + level (3 = error). Each read() of /dev/kmsg returns exactly one record.
/// </summary>
internal readonly record struct KernelLogRecord(int Level, ulong Sequence, ulong Microseconds, string Message)
{
    /// <summary>The kernel's LOGLEVEL_ERR: dm-verity reports corruption at this level (DMERR).</summary>
    public const int ErrorLevel = 3;

    private const int PriorityFields = 3;
    private const int LevelMask = 7;

    /// <summary>The record in RECORD, or null when it is not one (no ';', fewer than three numeric header fields).</summary>
    public static KernelLogRecord? Parse(ReadOnlySpan<byte> record)
    {
        var semicolon = record.IndexOf((byte)';');
        if (semicolon < 0)
        {
            return null;
        }

        var fields = Encoding.ASCII.GetString(record[..semicolon]).Split(',');
        if (fields.Length < PriorityFields || !TryNumber(fields[0], out var priority) || !TryNumber(fields[1], out var sequence) ||
            !TryNumber(fields[2], out var microseconds))
        {
            return null;
        }

        var body = record[(semicolon + 1)..];
        var newline = body.IndexOf((byte)'\n');
        var message = Encoding.UTF8.GetString(newline < 0 ? body : body[..newline]);
        return new KernelLogRecord((int)(priority & LevelMask), sequence, microseconds, message);
    }

    private static bool TryNumber(string text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
