using System.Buffers.Text;

namespace Sidus.Store.Export;

/// <summary>
/// One entry of a newc ("070701") cpio archive. <see cref="Mode"/> is the full st_mode (file type bits and
/// permissions); <see cref="FileSize"/> is the data that follows (0 for all but the last name of a hard link group).
/// </summary>
public readonly record struct CpioEntry(
    byte[] Name,
    uint Mode,
    uint Uid,
    uint Gid,
    uint LinkCount,
    long Mtime,
    long FileSize,
    uint Inode,
    uint RdevMajor = 0,
    uint RdevMinor = 0);

/// <summary>
/// Writes newc cpio archives, the format the kernel unpacks as an initramfs: 110-byte ASCII-hex headers, names and
/// data padded to 4 bytes, "TRAILER!!!" at the end. Usable for entries that do not come from the store (an initramfs
/// builder adds its own files through <see cref="WriteDirectory"/>, <see cref="WriteFile"/>, <see cref="WriteSymlink"/>).
/// </summary>
public sealed class CpioWriter
{
    public const int HeaderLength = 110;
    private const int FieldLength = 8;
    private const int Alignment = 4;
    private const uint MaxField = uint.MaxValue;

    private static ReadOnlySpan<byte> Magic => "070701"u8;
    private static ReadOnlySpan<byte> Trailer => "TRAILER!!!"u8;

    private readonly Stream _output;
    private long _dataLeft;
    private long _dataLength;
    private uint _nextInode = 1;

    public CpioWriter(Stream output) => _output = output;

    /// <summary>Bytes written so far.</summary>
    public long Position { get; private set; }

    /// <summary>A fresh inode number for an entry with no hard links (numbers start at 1).</summary>
    public uint NextInode() => _nextInode++;

    /// <summary>Writes ENTRY's header and name; exactly <see cref="CpioEntry.FileSize"/> bytes of data must follow.</summary>
    public void WriteHeader(CpioEntry entry)
    {
        if (_dataLeft != 0)
        {
            throw new InvalidOperationException($"{_dataLeft} bytes of the previous entry's data were not written");
        }

        if (entry.FileSize is < 0 or > MaxField || entry.Mtime is < 0 or > MaxField)
        {
            throw new StoreException(
                $"{LinuxException.Printable(entry.Name)}: newc cpio holds sizes and times up to 4 GiB / year 2106 only (size {entry.FileSize}, mtime {entry.Mtime})");
        }

        if (entry.Name.AsSpan().Contains((byte)0))
        {
            throw new ArgumentException("cpio names cannot contain NUL", nameof(entry));
        }

        PadData();
        Span<byte> header = stackalloc byte[HeaderLength];
        Magic.CopyTo(header);
        var at = Magic.Length;
        foreach (var value in (ReadOnlySpan<long>)[
                     entry.Inode, entry.Mode, entry.Uid, entry.Gid, entry.LinkCount, entry.Mtime, entry.FileSize,
                     0, 0, entry.RdevMajor, entry.RdevMinor, entry.Name.Length + 1, 0])
        {
            Utf8Formatter.TryFormat((uint)value, header.Slice(at, FieldLength), out _, new System.Buffers.StandardFormat('X', FieldLength));
            at += FieldLength;
        }

        Write(header);
        Write(entry.Name);
        Write([0]);
        Pad(HeaderLength + entry.Name.Length + 1);
        _dataLength = entry.FileSize;
        _dataLeft = entry.FileSize;
    }

    public void WriteData(ReadOnlySpan<byte> data)
    {
        if (data.Length > _dataLeft)
        {
            throw new InvalidOperationException($"entry data is longer than the {_dataLength} bytes its header says");
        }

        Write(data);
        _dataLeft -= data.Length;
    }

    public void WriteDirectory(byte[] name, uint permissions, uint uid = 0, uint gid = 0, long mtime = 0) =>
        WriteHeader(new CpioEntry(name, FileStatus.ModeBitsOf(FileKind.Directory) | permissions, uid, gid, 2, mtime, 0, NextInode()));

    public void WriteFile(byte[] name, uint permissions, ReadOnlySpan<byte> data, uint uid = 0, uint gid = 0, long mtime = 0)
    {
        WriteHeader(new CpioEntry(name, FileStatus.ModeBitsOf(FileKind.Regular) | permissions, uid, gid, 1, mtime, data.Length, NextInode()));
        WriteData(data);
    }

    public void WriteSymlink(byte[] name, byte[] target, uint uid = 0, uint gid = 0, long mtime = 0)
    {
        WriteHeader(new CpioEntry(name, FileStatus.ModeBitsOf(FileKind.Symlink) | 0x1FF, uid, gid, 1, mtime, target.Length, NextInode()));
        WriteData(target);
    }

    public void WriteDevice(byte[] name, FileKind kind, uint permissions, uint major, uint minor, uint uid = 0, uint gid = 0, long mtime = 0) =>
        WriteHeader(new CpioEntry(name, FileStatus.ModeBitsOf(kind) | permissions, uid, gid, 1, mtime, 0, NextInode(), major, minor));

    /// <summary>Writes the trailer entry and pads the archive to a 512-byte multiple, as cpio(1) does.</summary>
    public void Finish()
    {
        WriteHeader(new CpioEntry(Trailer.ToArray(), 0, 0, 0, 1, 0, 0, 0));
        var padding = (int)((512 - Position % 512) % 512);
        if (padding > 0)
        {
            Write(new byte[padding]);
        }

        _output.Flush();
    }

    private void PadData()
    {
        Pad(_dataLength);
        _dataLength = 0;
    }

    private void Pad(long length)
    {
        var padding = (int)((Alignment - length % Alignment) % Alignment);
        if (padding > 0)
        {
            Write(stackalloc byte[padding]);
        }
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        _output.Write(data);
        Position += data.Length;
    }
}
