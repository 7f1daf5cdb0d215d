using Sidus.Store.Import;

namespace Sidus.Store.Export;

/// <summary>
/// Writes a POSIX (PAX) tar stream the way GNU tar does with --xattrs --acls: a ustar header per member, preceded
/// by a PAX header when something does not fit it (long names, big numbers, nanosecond times, xattrs as
/// SCHILY.xattr.NAME with raw binary values, ACLs also as SCHILY.acl.* text, sparse files as GNU sparse 1.0).
/// Owner names are left empty so extraction keeps the numeric ids.
/// </summary>
public sealed class TarWriter
{
    private const uint PaxHeaderPermissions = 0x1A4; // 0644
    private const string XattrPrefix = "SCHILY.xattr.";

    private readonly Stream _output;
    private readonly byte[] _header = new byte[TarFormat.BlockSize];
    private long _dataLeft;
    private long _dataLength;

    public TarWriter(Stream output) => _output = output;

    /// <summary>Bytes written so far.</summary>
    public long Position { get; private set; }

    /// <summary>
    /// Writes MEMBER's headers; for regular files, exactly <see cref="TarMember.DataLength"/> bytes must follow through
    /// <see cref="WriteData"/> before the next member. Paths are written as given (use "./" prefixes and a trailing
    /// '/' on directories for GNU tar's own layout).
    /// </summary>
    public void WriteMember(TarMember member)
    {
        if (_dataLeft != 0)
        {
            throw new InvalidOperationException($"{_dataLeft} bytes of the previous member's data were not written");
        }

        EndPadding();
        var pax = new ByteWriter(256);
        var type = member.Kind switch
        {
            TarMemberKind.Regular => TarFormat.TypeRegular,
            TarMemberKind.HardLink => TarFormat.TypeHardLink,
            TarMemberKind.Symlink => TarFormat.TypeSymlink,
            TarMemberKind.CharDevice => TarFormat.TypeCharDevice,
            TarMemberKind.BlockDevice => TarFormat.TypeBlockDevice,
            TarMemberKind.Directory => TarFormat.TypeDirectory,
            TarMemberKind.Fifo => TarFormat.TypeFifo,
            _ => throw new ArgumentException($"unknown member kind {member.Kind}", nameof(member)),
        };

        var name = member.Path;
        byte[]? sparseMap = null;
        var stored = member.Kind == TarMemberKind.Regular ? member.DataLength : 0;
        if (member.Kind == TarMemberKind.Regular && member.Extents is { } extents)
        {
            sparseMap = SparseMap(extents, member.Size);
            stored += sparseMap.Length;
            PaxRecords.Append(pax, "GNU.sparse.major", "1");
            PaxRecords.Append(pax, "GNU.sparse.minor", "0");
            PaxRecords.Append(pax, "GNU.sparse.name", member.Path);
            PaxRecords.Append(pax, "GNU.sparse.realsize", member.Size.ToString(CultureInfo.InvariantCulture));
            name = SparseHeaderName(member.Path);
        }
        else if (name.Length > TarFormat.NameLength)
        {
            PaxRecords.Append(pax, "path", name);
        }

        if (member.LinkTarget is { Length: > TarFormat.LinkNameLength } link)
        {
            PaxRecords.Append(pax, "linkpath", link);
        }

        var mtimeFits = member.MtimeNanoseconds == 0 && member.MtimeSeconds >= 0 && member.MtimeSeconds <= TarFormat.MaxOctal(TarFormat.MtimeLength);
        if (!mtimeFits)
        {
            PaxRecords.Append(pax, "mtime", PaxRecords.FormatTime(member.MtimeSeconds, member.MtimeNanoseconds));
        }

        if (member.Uid > TarFormat.MaxOctal(TarFormat.UidLength))
        {
            PaxRecords.Append(pax, "uid", member.Uid.ToString(CultureInfo.InvariantCulture));
        }

        if (member.Gid > TarFormat.MaxOctal(TarFormat.GidLength))
        {
            PaxRecords.Append(pax, "gid", member.Gid.ToString(CultureInfo.InvariantCulture));
        }

        if (stored > TarFormat.MaxOctal(TarFormat.SizeLength))
        {
            PaxRecords.Append(pax, "size", stored.ToString(CultureInfo.InvariantCulture));
        }

        AppendXattrs(pax, member.Xattrs);
        if (pax.Length > 0)
        {
            WriteHeader(PaxHeaderName(member.Path), TarFormat.TypePaxLocal, PaxHeaderPermissions, 0, 0,
                Math.Clamp(member.MtimeSeconds, 0, TarFormat.MaxOctal(TarFormat.MtimeLength)), pax.Length, [], 0, 0);
            Write(pax.WrittenSpan);
            Pad(pax.Length);
        }

        WriteHeader(name, type, member.Permissions, member.Uid, member.Gid, member.MtimeSeconds, stored,
            member.LinkTarget ?? [], member.DevMajor, member.DevMinor);
        _dataLength = stored;
        _dataLeft = stored;
        if (sparseMap is not null)
        {
            WriteData(sparseMap);
        }
    }

    /// <summary>The current member's data, in order (for sparse members: the data extents only, concatenated).</summary>
    public void WriteData(ReadOnlySpan<byte> data)
    {
        if (data.Length > _dataLeft)
        {
            throw new InvalidOperationException($"member data is longer than the {_dataLength} bytes its header says");
        }

        Write(data);
        _dataLeft -= data.Length;
    }

    /// <summary>Pads the last member and writes the end-of-archive marker (two zero blocks).</summary>
    public void Finish()
    {
        if (_dataLeft != 0)
        {
            throw new InvalidOperationException($"{_dataLeft} bytes of the last member's data were not written");
        }

        EndPadding();
        Write(new byte[2 * TarFormat.BlockSize]);
        _output.Flush();
    }

    private void EndPadding()
    {
        Pad(_dataLength);
        _dataLength = 0;
    }

    private void Pad(long length)
    {
        var padding = (int)(TarFormat.Padded(length) - length);
        if (padding > 0)
        {
            Write(new byte[padding]);
        }
    }

    private void WriteHeader(ReadOnlySpan<byte> name, byte type, uint permissions, uint uid, uint gid, long mtime, long size,
        ReadOnlySpan<byte> link, uint major, uint minor)
    {
        var h = _header.AsSpan();
        h.Clear();
        name[..Math.Min(name.Length, TarFormat.NameLength)].CopyTo(h[TarFormat.NameOffset..]);
        TarFormat.TryWriteOctal(h.Slice(TarFormat.ModeOffset, TarFormat.ModeLength), permissions & 0xFFF);
        Number(h.Slice(TarFormat.UidOffset, TarFormat.UidLength), uid);
        Number(h.Slice(TarFormat.GidOffset, TarFormat.GidLength), gid);
        Number(h.Slice(TarFormat.SizeOffset, TarFormat.SizeLength), size);
        Number(h.Slice(TarFormat.MtimeOffset, TarFormat.MtimeLength), mtime);
        h[TarFormat.TypeOffset] = type;
        link[..Math.Min(link.Length, TarFormat.LinkNameLength)].CopyTo(h[TarFormat.LinkNameOffset..]);
        TarFormat.UstarMagic.CopyTo(h[TarFormat.MagicOffset..]);
        TarFormat.UstarVersion.CopyTo(h[TarFormat.VersionOffset..]);
        if (type is TarFormat.TypeCharDevice or TarFormat.TypeBlockDevice)
        {
            Number(h.Slice(TarFormat.DevMajorOffset, TarFormat.DevMajorLength), major);
            Number(h.Slice(TarFormat.DevMinorOffset, TarFormat.DevMinorLength), minor);
        }

        TarFormat.WriteChecksum(h);
        Write(h);
    }

    /// <summary>Octal when it fits; GNU base-256 otherwise (the PAX record, when there is one, is what readers use).</summary>
    private static void Number(Span<byte> field, long value)
    {
        if (!TarFormat.TryWriteOctal(field, value))
        {
            TarFormat.WriteBase256(field, value);
        }
    }

    private static void AppendXattrs(ByteWriter pax, IReadOnlyList<KeyValuePair<byte[], byte[]>> xattrs)
    {
        // GNU tar restores ACLs from the text records (--acls) and everything else from SCHILY.xattr.*.
        foreach (var (key, value) in xattrs)
        {
            var record = key.AsSpan().SequenceEqual(PosixAcl.AccessXattr) ? "SCHILY.acl.access"
                : key.AsSpan().SequenceEqual(PosixAcl.DefaultXattr) ? "SCHILY.acl.default"
                : null;
            if (record is not null && PosixAcl.ToText(value) is { } text)
            {
                PaxRecords.Append(pax, record, text);
            }
        }

        foreach (var (key, value) in xattrs)
        {
            PaxRecords.Append(pax, XattrPrefix + Encoding.Latin1.GetString(key), value);
        }
    }

    /// <summary>GNU sparse 1.0 map: the extent count, then offset and length per extent, in decimal lines.</summary>
    private static byte[] SparseMap(IReadOnlyList<Extent> extents, long size)
    {
        var list = extents.ToList();
        // A trailing empty extent at the end tells extractors the file's full length when it ends in a hole.
        if (list.Count == 0 || list[^1].Offset + list[^1].Length < size)
        {
            list.Add(new Extent(size, 0));
        }

        var text = new StringBuilder();
        text.Append(list.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var e in list)
        {
            text.Append(e.Offset.ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append(e.Length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        var map = new byte[TarFormat.Padded(bytes.Length)];
        bytes.CopyTo(map, 0);
        return map;
    }

    private static byte[] PaxHeaderName(byte[] path) => Decorated(path, "PaxHeaders/"u8);

    private static byte[] SparseHeaderName(byte[] path) => Decorated(path, "GNUSparseFile.0/"u8);

    /// <summary>DIR/TAG/BASE cut to the ustar name field, as GNU tar names its helper members.</summary>
    private static byte[] Decorated(byte[] path, ReadOnlySpan<byte> tag)
    {
        var trimmed = path.AsSpan().TrimEnd((byte)'/');
        var slash = trimmed.LastIndexOf((byte)'/');
        var dir = slash >= 0 ? trimmed[..(slash + 1)] : [];
        var name = slash >= 0 ? trimmed[(slash + 1)..] : trimmed;
        byte[] result = [.. dir, .. tag, .. name];
        return result.Length <= TarFormat.NameLength ? result : [.. "./"u8, .. tag, .. name[..Math.Min(name.Length, TarFormat.NameLength - tag.Length - 2)]];
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        _output.Write(data);
        Position += data.Length;
    }
}
