namespace Sidus.Wire.Dhcp;

/// <summary>Append-only lease journal: one text line per lease change, the last line for an address wins.
/// Appends go to memory and are made durable by <see cref="Commit"/> (one write and one fsync for a batch of ACKs),
/// or in two steps, <see cref="TakeBatch"/> then <see cref="WriteBatch"/>, so the write and fsync can run outside the
/// caller's lock while new appends continue (group commit); the file is
/// rewritten from the live leases when it has grown well past them. A line that is cut short, garbled or fails its
/// checksum is skipped on load, so a crash mid-write costs at most the unacknowledged tail.</summary>
/// <remarks>Line format (version 1): <c>L1 ADDRESS MAC STATE EXPIRES_UNIX_SECONDS HOSTNAME_HEX CHECKSUM_HEX</c>;
/// the host name is hex so hostile names can never break a line.</remarks>
public sealed class DhcpLeaseJournal : IDisposable
{
    private const string RecordTag = "L1";
    private const int FieldCount = 7;
    private const int MinCompactionRecords = 4096;
    private const int CompactionFactor = 4;
    private const int MaxLineLength = 1024;

    private readonly string _path;
    private readonly Lock _writeGate = new();
    private FileStream _stream;
    private MemoryStream _buffer = new();
    private long _records;

    public DhcpLeaseJournal(string path)
    {
        _path = path;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);
        _stream = OpenAppend(path);
    }

    public long RecordCount => _records;

    /// <summary>Reads every well-formed record in order. Returns the number of lines skipped as damaged.</summary>
    public static int Load(string path, Action<DhcpLease> apply)
    {
        if (!File.Exists(path))
            return 0;
        var skipped = 0;
        var bytes = File.ReadAllBytes(path);
        var start = 0;
        while (start < bytes.Length)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', start);
            if (newline < 0)
            {
                // A last line without its newline was being written when the process stopped.
                skipped++;
                break;
            }
            var line = bytes.AsSpan(start, newline - start);
            start = newline + 1;
            if (line.Length is 0 or > MaxLineLength || !TryParse(Encoding.ASCII.GetString(line), out var lease))
            {
                skipped++;
                continue;
            }
            apply(lease);
        }
        return skipped;
    }

    /// <summary>Buffers one record; it is durable only after <see cref="Commit"/>.</summary>
    public void Append(DhcpLease lease)
    {
        var line = Format(lease);
        _buffer.Write(Encoding.ASCII.GetBytes(line));
        _records++;
    }

    /// <summary>Writes buffered records and fsyncs them. Returns false when there was nothing to commit.</summary>
    public bool Commit() => WriteBatch(TakeBatch());

    /// <summary>Takes the records appended so far (call under the same lock as <see cref="Append"/>).</summary>
    public JournalBatch TakeBatch()
    {
        if (_buffer.Length == 0)
            return default;
        var batch = new JournalBatch(_buffer);
        _buffer = new MemoryStream();
        return batch;
    }

    /// <summary>Writes and fsyncs a batch; batches must be written in the order they were taken.</summary>
    public bool WriteBatch(JournalBatch batch)
    {
        if (batch.Data is null)
            return false;
        lock (_writeGate)
        {
            batch.Data.WriteTo(_stream);
            _stream.Flush(flushToDisk: true);
        }
        return true;
    }

    public bool NeedsCompaction(int liveLeases) => _records > Math.Max(MinCompactionRecords, (long)liveLeases * CompactionFactor);

    /// <summary>Replaces the journal with exactly <paramref name="live"/>: written to a temporary file, fsynced, renamed.</summary>
    public void Compact(IEnumerable<DhcpLease> live)
    {
        Commit();
        lock (_writeGate)
            CompactLocked(live);
    }

    private void CompactLocked(IEnumerable<DhcpLease> live)
    {
        long count = 0;
        // The rename leaves the open append stream on the old file, closed and reopened on the new one below.
        AtomicFile.Write(_path, output =>
        {
            foreach (var lease in live)
            {
                output.Write(Encoding.ASCII.GetBytes(Format(lease)));
                count++;
            }
        });
        _stream.Dispose();
        _stream = OpenAppend(_path);
        _records = count;
    }

    public void Dispose()
    {
        Commit();
        lock (_writeGate)
            _stream.Dispose();
    }

    internal static string Format(DhcpLease lease)
    {
        var host = lease.HostName is null ? "-" : Convert.ToHexStringLower(Encoding.UTF8.GetBytes(lease.HostName));
        var body = string.Create(CultureInfo.InvariantCulture,
            $"{RecordTag} {lease.Address} {(lease.Mac.Length == 0 ? "-" : lease.Mac)} {(byte)lease.State} {lease.Expires.ToUnixTimeSeconds()} {host}");
        return string.Create(CultureInfo.InvariantCulture, $"{body} {Checksum(body):x8}\n");
    }

    internal static bool TryParse(string line, out DhcpLease lease)
    {
        lease = null!;
        var fields = line.Split(' ');
        if (fields.Length != FieldCount || fields[0] != RecordTag)
            return false;
        var body = line[..line.LastIndexOf(' ')];
        if (!uint.TryParse(fields[6], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var sum) || sum != Checksum(body))
            return false;
        if (!Ip4.TryParse(fields[1], out var address) || !byte.TryParse(fields[3], CultureInfo.InvariantCulture, out var state)
            || state > (byte)DhcpLeaseState.Declined || state == (byte)DhcpLeaseState.Offered
            || !long.TryParse(fields[4], CultureInfo.InvariantCulture, out var expires)
            || expires < DateTimeOffset.MinValue.ToUnixTimeSeconds() || expires > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            return false;
        string? host = null;
        if (fields[5] != "-")
        {
            try
            {
                host = Encoding.UTF8.GetString(Convert.FromHexString(fields[5]));
            }
            catch (FormatException)
            {
                return false;
            }
        }
        var mac = fields[2] == "-" ? string.Empty : fields[2];
        lease = new DhcpLease(address, mac, (DhcpLeaseState)state, DateTimeOffset.FromUnixTimeSeconds(expires), host);
        return true;
    }

    /// <summary>FNV-1a over the record text: catches torn and garbled lines, not tampering.</summary>
    private static uint Checksum(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
            hash = (hash ^ c) * 16777619u;
        return hash;
    }

    private static FileStream OpenAppend(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
}

/// <summary>Records taken from the journal's memory buffer, waiting to be written.</summary>
public readonly record struct JournalBatch(MemoryStream? Data);
