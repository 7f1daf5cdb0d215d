using System.Buffers;

namespace Sidus.Store.Import;

/// <summary>
/// Reads tar archives member by member from a stream, without ever holding a member's data: ustar, GNU (long names
/// and links, base-256 numbers, old sparse members) and PAX (local and global headers, nanosecond times, binary
/// xattrs, GNU sparse formats 0.0, 0.1 and 1.0). Names stay bytes. Every header's checksum is verified, and an
/// archive that ends early is an error naming the member it ended in.
/// </summary>
public sealed class TarReader
{
    /// <summary>Largest PAX header or GNU long name accepted (xattr values are at most 64 KiB each).</summary>
    public const int MaxExtendedHeaderLength = 16 << 20;

    /// <summary>Largest sparse map accepted (entries), so a hostile map cannot exhaust memory.</summary>
    public const int MaxSparseEntries = 1 << 20;

    private const string XattrPrefix = "SCHILY.xattr.";
    private const string LibarchiveXattrPrefix = "LIBARCHIVE.xattr.";
    private const string RedHatSelinux = "RHT.security.selinux";
    private const string AclAccess = "SCHILY.acl.access";
    private const string AclDefault = "SCHILY.acl.default";

    private readonly Stream _stream;
    private readonly byte[] _header = new byte[TarFormat.BlockSize];
    private readonly Dictionary<string, byte[]> _global = new(StringComparer.Ordinal);
    private long _position;
    private long _skip;
    private DataStream? _current;
    private byte[] _lastName = [];
    private bool _ended;

    public TarReader(Stream stream) => _stream = stream;

    /// <summary>Bytes of the (uncompressed) archive consumed so far.</summary>
    public long Position => _position;

    /// <summary>The next member, or null at the end-of-archive marker.</summary>
    public TarMember? Next()
    {
        if (_ended)
        {
            return null;
        }

        FinishCurrent();
        var local = new List<KeyValuePair<string, byte[]>>();
        byte[]? longName = null;
        byte[]? longLink = null;
        var headerOffset = _position;
        while (true)
        {
            ReadHeader();
            if (TarFormat.IsZeroBlock(_header))
            {
                // The end marker is two zero blocks; some writers stop after one, so the second is not required.
                _ended = true;
                return null;
            }

            VerifyChecksum();
            var type = _header[TarFormat.TypeOffset];
            switch (type)
            {
                case TarFormat.TypePaxLocal:
                    local.AddRange(PaxRecords.Decode(ReadExtended(), Describe()));
                    continue;
                case TarFormat.TypePaxGlobal:
                    foreach (var (key, value) in PaxRecords.Decode(ReadExtended(), Describe()))
                    {
                        if (value.Length == 0)
                        {
                            _global.Remove(key);
                        }
                        else
                        {
                            _global[key] = value;
                        }
                    }

                    continue;
                case TarFormat.TypeGnuLongName:
                    longName = TarFormat.CString(ReadExtended()).ToArray();
                    continue;
                case TarFormat.TypeGnuLongLink:
                    longLink = TarFormat.CString(ReadExtended()).ToArray();
                    continue;
                case TarFormat.TypeGnuVolumeLabel:
                    Skip(TarFormat.Padded(Number(TarFormat.SizeOffset, TarFormat.SizeLength, "size")));
                    continue;
            }

            return BuildMember(type, local, longName, longLink, headerOffset);
        }
    }

    private TarMember BuildMember(byte type, List<KeyValuePair<string, byte[]>> local, byte[]? longName, byte[]? longLink, long headerOffset)
    {
        var pax = new Dictionary<string, byte[]>(_global, StringComparer.Ordinal);
        foreach (var (key, value) in local)
        {
            pax[key] = value;
        }

        var ustar = _header.AsSpan(TarFormat.MagicOffset, TarFormat.MagicLength).SequenceEqual(TarFormat.UstarMagic);
        var name = TarFormat.CString(_header.AsSpan(TarFormat.NameOffset, TarFormat.NameLength)).ToArray();
        var prefix = ustar ? TarFormat.CString(_header.AsSpan(TarFormat.PrefixOffset, TarFormat.PrefixLength)) : [];
        byte[] path = pax.TryGetValue("path", out var paxPath) ? paxPath
            : longName ?? (prefix.IsEmpty ? name : [.. prefix, (byte)'/', .. name]);
        if (pax.TryGetValue("GNU.sparse.name", out var sparseName))
        {
            path = sparseName;
        }

        _lastName = path;
        var kind = type switch
        {
            TarFormat.TypeRegular or TarFormat.TypeRegularOld or TarFormat.TypeContiguous or TarFormat.TypeGnuSparse => TarMemberKind.Regular,
            TarFormat.TypeHardLink => TarMemberKind.HardLink,
            TarFormat.TypeSymlink => TarMemberKind.Symlink,
            TarFormat.TypeCharDevice => TarMemberKind.CharDevice,
            TarFormat.TypeBlockDevice => TarMemberKind.BlockDevice,
            TarFormat.TypeDirectory or TarFormat.TypeGnuDumpDir => TarMemberKind.Directory,
            TarFormat.TypeFifo => TarMemberKind.Fifo,
            _ => throw new TarFormatException(
                $"member {Describe()} has type '{(type is >= 0x20 and < 0x7F ? ((char)type).ToString() : $"0x{type:x2}")}', which sidus does not import (multi-volume and vendor members are not root trees)"),
        };

        var size = PaxNumber(pax, "size") ?? Number(TarFormat.SizeOffset, TarFormat.SizeLength, "size");
        var mode = Number(TarFormat.ModeOffset, TarFormat.ModeLength, "mode");
        var uid = PaxNumber(pax, "uid") ?? Number(TarFormat.UidOffset, TarFormat.UidLength, "uid");
        var gid = PaxNumber(pax, "gid") ?? Number(TarFormat.GidOffset, TarFormat.GidLength, "gid");
        long seconds;
        uint nanoseconds = 0;
        if (pax.TryGetValue("mtime", out var mtimeText))
        {
            if (!PaxRecords.TryParseTime(mtimeText, out seconds, out nanoseconds))
            {
                throw new TarFormatException($"member {Describe()} has a bad PAX mtime '{Encoding.ASCII.GetString(mtimeText)}'");
            }
        }
        else
        {
            seconds = Number(TarFormat.MtimeOffset, TarFormat.MtimeLength, "mtime");
        }

        if (uid is < 0 or > uint.MaxValue || gid is < 0 or > uint.MaxValue || size < 0)
        {
            throw new TarFormatException($"member {Describe()} has an owner or size out of range");
        }

        byte[]? link = null;
        if (kind is TarMemberKind.HardLink or TarMemberKind.Symlink)
        {
            link = pax.TryGetValue("linkpath", out var paxLink) ? paxLink
                : longLink ?? TarFormat.CString(_header.AsSpan(TarFormat.LinkNameOffset, TarFormat.LinkNameLength)).ToArray();
        }

        uint major = 0, minor = 0;
        if (kind is TarMemberKind.CharDevice or TarMemberKind.BlockDevice)
        {
            major = (uint)Math.Clamp(Number(TarFormat.DevMajorOffset, TarFormat.DevMajorLength, "devmajor"), 0, uint.MaxValue);
            minor = (uint)Math.Clamp(Number(TarFormat.DevMinorOffset, TarFormat.DevMinorLength, "devminor"), 0, uint.MaxValue);
        }

        // Only these carry data blocks (as Python's tarfile and GNU tar read them); others' size fields are ignored.
        var stored = type is TarFormat.TypeRegular or TarFormat.TypeRegularOld or TarFormat.TypeContiguous
            or TarFormat.TypeGnuSparse or TarFormat.TypeGnuDumpDir ? size : 0;
        var dataOffset = _position;
        _current = new DataStream(this, stored);
        _skip = TarFormat.Padded(stored) - stored;

        var logical = kind == TarMemberKind.Regular ? size : 0;
        var dataLength = kind == TarMemberKind.Regular ? size : 0;
        IReadOnlyList<Extent>? extents = null;
        if (type == TarFormat.TypeGnuSparse)
        {
            (extents, logical) = ReadOldGnuSparse();
        }
        else if (kind == TarMemberKind.Regular && pax.Count > 0 && SparseFromPax(pax, ref logical, ref dataLength) is { } found)
        {
            extents = found;
        }

        if (extents is not null)
        {
            extents = NormaliseExtents(extents, logical, dataLength);
        }

        return new TarMember
        {
            Path = path,
            Kind = kind,
            Permissions = (uint)(mode & 0xFFF),
            Uid = (uint)uid,
            Gid = (uint)gid,
            MtimeSeconds = seconds,
            MtimeNanoseconds = nanoseconds,
            Size = logical,
            DataLength = kind == TarMemberKind.Regular ? dataLength : 0,
            Extents = extents,
            LinkTarget = link,
            DevMajor = major,
            DevMinor = minor,
            Xattrs = Xattrs(pax),
            HeaderOffset = headerOffset,
            DataOffset = dataOffset,
            Data = _current,
        };
    }

    private List<Extent>? SparseFromPax(Dictionary<string, byte[]> pax, ref long logical, ref long dataLength)
    {
        if (pax.TryGetValue("GNU.sparse.major", out var major))
        {
            if (!major.AsSpan().SequenceEqual("1"u8) || !pax.TryGetValue("GNU.sparse.minor", out var minor) || !minor.AsSpan().SequenceEqual("0"u8))
            {
                throw new TarFormatException($"member {Describe()} uses GNU sparse format {Encoding.ASCII.GetString(major)}.x, which sidus does not read");
            }

            logical = PaxNumber(pax, "GNU.sparse.realsize") ?? throw new TarFormatException($"sparse member {Describe()} has no real size");
            var (map, mapBytes) = ReadSparseMapFromData();
            // The map was read through the data stream: what is left there is the file's data.
            dataLength -= mapBytes;
            return map;
        }

        if (pax.TryGetValue("GNU.sparse.map", out var mapText))
        {
            logical = PaxNumber(pax, "GNU.sparse.size") ?? PaxNumber(pax, "GNU.sparse.realsize")
                ?? throw new TarFormatException($"sparse member {Describe()} has no real size");
            var numbers = Encoding.ASCII.GetString(mapText).Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (numbers.Length % 2 != 0 || numbers.Length / 2 > MaxSparseEntries)
            {
                throw new TarFormatException($"sparse member {Describe()} has a bad GNU.sparse.map");
            }

            var list = new List<Extent>(numbers.Length / 2);
            for (var i = 0; i < numbers.Length; i += 2)
            {
                list.Add(new Extent(ParseDecimal(numbers[i]), ParseDecimal(numbers[i + 1])));
            }

            return list;
        }

        if (pax.ContainsKey("GNU.sparse.offset") || pax.ContainsKey("GNU.sparse.numbytes"))
        {
            throw new TarFormatException(
                $"member {Describe()} uses GNU sparse format 0.0, which sidus does not read: recreate the archive with tar --sparse --format=posix (format 1.0)");
        }

        return null;
    }

    /// <summary>Sparse format 1.0: the map is decimal lines at the start of the data, padded to a block.</summary>
    private (List<Extent> Map, long Bytes) ReadSparseMapFromData()
    {
        var consumed = 0L;
        var block = new byte[TarFormat.BlockSize];
        var at = TarFormat.BlockSize;
        long NextNumber()
        {
            long value = 0;
            var digits = 0;
            while (true)
            {
                if (at == TarFormat.BlockSize)
                {
                    _current!.ReadExactly(block);
                    consumed += TarFormat.BlockSize;
                    at = 0;
                }

                var c = block[at++];
                if (c == (byte)'\n' && digits > 0)
                {
                    return value;
                }

                if (c < (byte)'0' || c > (byte)'9' || digits++ > 18)
                {
                    throw new TarFormatException($"sparse member {Describe()} has a bad sparse map");
                }

                value = value * 10 + (c - '0');
            }
        }

        var count = NextNumber();
        if (count > MaxSparseEntries)
        {
            throw new TarFormatException($"sparse member {Describe()} has {count} extents, over the limit of {MaxSparseEntries}");
        }

        var map = new List<Extent>((int)count);
        for (var i = 0; i < count; i++)
        {
            map.Add(new Extent(NextNumber(), NextNumber()));
        }

        return (map, consumed);
    }

    /// <summary>Old GNU sparse members: the map is in the header and in extension blocks that follow it.</summary>
    private (List<Extent> Map, long Logical) ReadOldGnuSparse()
    {
        var map = new List<Extent>();
        var logical = Number(TarFormat.GnuRealSizeOffset, TarFormat.GnuRealSizeLength, "realsize");
        void AddEntries(ReadOnlySpan<byte> block, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var entry = block.Slice(i * TarFormat.GnuSparseEntryLength, TarFormat.GnuSparseEntryLength);
                if (TarFormat.IsZeroBlock(entry))
                {
                    return;
                }

                if (!TarFormat.TryParseNumber(entry[..TarFormat.GnuSparseNumberLength], out var offset) ||
                    !TarFormat.TryParseNumber(entry[TarFormat.GnuSparseNumberLength..], out var length))
                {
                    throw new TarFormatException($"sparse member {Describe()} has a bad sparse map");
                }

                map.Add(new Extent(offset, length));
            }
        }

        AddEntries(_header.AsSpan(TarFormat.GnuSparseOffset), TarFormat.GnuSparseEntriesInHeader);
        var extended = _header[TarFormat.GnuIsExtendedOffset] != 0;
        // The extension blocks sit between the header and the data; the data stream has not been read yet.
        var stored = _current!.Remaining;
        _current = null;
        var block = new byte[TarFormat.BlockSize];
        while (extended)
        {
            ReadBlock(block, "sparse header");
            AddEntries(block, TarFormat.GnuSparseEntriesInExtension);
            extended = block[TarFormat.GnuExtensionIsExtendedOffset] != 0;
            if (map.Count > MaxSparseEntries)
            {
                throw new TarFormatException($"sparse member {Describe()} has over {MaxSparseEntries} extents");
            }
        }

        _current = new DataStream(this, stored);
        return (map, logical);
    }

    private List<Extent> NormaliseExtents(IReadOnlyList<Extent> map, long logical, long dataLength)
    {
        var result = new List<Extent>(map.Count);
        long end = 0, total = 0;
        foreach (var e in map)
        {
            if (e.Offset < end || e.Length < 0 || e.Offset > logical || e.Length > logical - e.Offset)
            {
                throw new TarFormatException($"sparse member {Describe()} has overlapping or out-of-range extents");
            }

            end = e.Offset + e.Length;
            total += e.Length;
            if (e.Length == 0)
            {
                continue;
            }

            if (result.Count > 0 && result[^1].Offset + result[^1].Length == e.Offset)
            {
                result[^1] = new Extent(result[^1].Offset, result[^1].Length + e.Length);
            }
            else
            {
                result.Add(e);
            }
        }

        if (total != dataLength)
        {
            throw new TarFormatException($"sparse member {Describe()} maps {total} bytes of data but stores {dataLength}");
        }

        return result;
    }

    private IReadOnlyList<KeyValuePair<byte[], byte[]>> Xattrs(Dictionary<string, byte[]> pax)
    {
        if (pax.Count == 0)
        {
            return [];
        }

        var xattrs = new SortedDictionary<byte[], byte[]>(ByteComparer.Instance);
        foreach (var (key, value) in pax)
        {
            if (key.StartsWith(LibarchiveXattrPrefix, StringComparison.Ordinal))
            {
                var name = Uri.UnescapeDataString(key[LibarchiveXattrPrefix.Length..]);
                try
                {
                    xattrs.TryAdd(Encoding.Latin1.GetBytes(name), Convert.FromBase64String(Encoding.ASCII.GetString(value)));
                }
                catch (FormatException e)
                {
                    throw new TarFormatException($"member {Describe()} has a bad base64 value for xattr {name}", e);
                }
            }
        }

        foreach (var (key, value) in pax)
        {
            if (key.StartsWith(XattrPrefix, StringComparison.Ordinal))
            {
                xattrs[Encoding.Latin1.GetBytes(key[XattrPrefix.Length..])] = value;
            }
            else if (key == RedHatSelinux)
            {
                xattrs["security.selinux"u8.ToArray()] = value;
            }
        }

        AddAcl(xattrs, pax, AclAccess, PosixAcl.AccessXattr, isDefault: false);
        AddAcl(xattrs, pax, AclDefault, PosixAcl.DefaultXattr, isDefault: true);
        return xattrs.Count == 0 ? [] : xattrs.ToList();
    }

    private void AddAcl(SortedDictionary<byte[], byte[]> xattrs, Dictionary<string, byte[]> pax, string key, ReadOnlySpan<byte> xattr, bool isDefault)
    {
        // The raw xattr (SCHILY.xattr.system.posix_acl_*) is exact; the text form is used only when it is absent.
        var name = xattr.ToArray();
        if (!xattrs.ContainsKey(name) && pax.TryGetValue(key, out var text) && PosixAcl.FromText(text, isDefault, Describe()) is { } value)
        {
            xattrs[name] = value;
        }
    }

    private byte[] ReadExtended()
    {
        var size = Number(TarFormat.SizeOffset, TarFormat.SizeLength, "size");
        if (size > MaxExtendedHeaderLength)
        {
            throw new TarFormatException($"extended header of {size} bytes after member {Describe()} is over the {MaxExtendedHeaderLength} byte limit");
        }

        var data = new byte[size];
        ReadBlock(data, "extended header");
        Skip(TarFormat.Padded(size) - size);
        return data;
    }

    private void ReadHeader()
    {
        var n = ReadAtMost(_header);
        if (n == 0)
        {
            throw new TarFormatException(
                $"the archive is truncated: it ends after member {Describe()} without the end-of-archive marker");
        }

        if (n < TarFormat.BlockSize)
        {
            throw new TarFormatException($"the archive is truncated in the header after member {Describe()}");
        }
    }

    private void VerifyChecksum()
    {
        var field = _header.AsSpan(TarFormat.ChecksumOffset, TarFormat.ChecksumLength);
        var (unsignedSum, signedSum) = TarFormat.Checksums(_header);
        if (!TarFormat.TryParseNumber(field, out var recorded) || (recorded != unsignedSum && recorded != signedSum))
        {
            throw new TarFormatException(
                $"bad tar header checksum at offset {_position - TarFormat.BlockSize} (after member {Describe()}): the archive is damaged or not a tar archive");
        }
    }

    private long Number(int offset, int length, string field)
    {
        if (!TarFormat.TryParseNumber(_header.AsSpan(offset, length), out var value))
        {
            throw new TarFormatException($"bad {field} field in the tar header at offset {_position - TarFormat.BlockSize} (after member {Describe()})");
        }

        return value;
    }

    private long? PaxNumber(Dictionary<string, byte[]> pax, string key)
    {
        if (!pax.TryGetValue(key, out var text))
        {
            return null;
        }

        // PAX times may have fractions, other numbers may not; a fraction here is malformed.
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw new TarFormatException($"member {Describe()} has a bad PAX {key} '{LinuxException.Printable(text)}'");
        }

        return value;
    }

    private long ParseDecimal(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new TarFormatException($"sparse member {Describe()} has a bad number '{text}' in its map");

    private string Describe() => TarFormatException.Describe(_lastName);

    private void FinishCurrent()
    {
        if (_current is { } current)
        {
            Skip(current.Remaining);
            current.Detach();
            _current = null;
        }

        Skip(_skip);
        _skip = 0;
    }

    private void Skip(long count)
    {
        if (count <= 0)
        {
            return;
        }

        if (_stream.CanSeek)
        {
            if (_stream.Length - _stream.Position < count)
            {
                throw Truncated();
            }

            _stream.Seek(count, SeekOrigin.Current);
            _position += count;
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (count > 0)
            {
                var n = _stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
                if (n == 0)
                {
                    throw Truncated();
                }

                count -= n;
                _position += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ReadBlock(Span<byte> destination, string what)
    {
        if (ReadAtMost(destination) != destination.Length)
        {
            throw new TarFormatException($"the archive is truncated in the {what} of member {Describe()}");
        }
    }

    private int ReadAtMost(Span<byte> destination)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var n = _stream.Read(destination[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        _position += total;
        return total;
    }

    private TarFormatException Truncated() => new($"the archive is truncated at member {Describe()}: its data ends early");

    /// <summary>A member's stored data; reading past what the archive holds is a truncation error.</summary>
    private sealed class DataStream(TarReader reader, long length) : ReadOnlyStream
    {
        private TarReader? _reader = reader;

        public long Remaining { get; private set; } = length;

        public void Detach() => _reader = null;

        public override int Read(Span<byte> buffer)
        {
            var reader = _reader ?? throw new InvalidOperationException("the member's data is no longer readable: the reader moved on");
            if (Remaining == 0 || buffer.IsEmpty)
            {
                return 0;
            }

            var n = reader._stream.Read(buffer[..(int)Math.Min(buffer.Length, Remaining)]);
            if (n == 0)
            {
                throw reader.Truncated();
            }

            Remaining -= n;
            reader._position += n;
            return n;
        }

    }
}
