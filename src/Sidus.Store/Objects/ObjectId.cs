using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sidus.Store.Objects;

/// <summary>A SHA-256 digest naming an object by its content.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct ObjectId : IEquatable<ObjectId>, IComparable<ObjectId>
{
    public const int Size = 32;

    private readonly ulong _a, _b, _c, _d;

    private ObjectId(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    public static ObjectId Zero => default;

    public bool IsZero => (_a | _b | _c | _d) == 0;

    public static ObjectId Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new InvalidDataException("object id truncated");
        }

        return new ObjectId(
            BinaryPrimitives.ReadUInt64BigEndian(source),
            BinaryPrimitives.ReadUInt64BigEndian(source[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(source[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(source[24..]));
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>SHA-256 of DATA into DIGEST (32 bytes).</summary>
    public delegate void HashFunction(ReadOnlySpan<byte> data, Span<byte> digest);

    /// <summary>
    /// What <see cref="Hash"/> uses instead of .NET's SHA-256, when set: the node agent in an initramfs sets its
    /// managed one, since .NET's calls OpenSSL, which an initramfs lacks (the process would abort, and it is PID 1).
    /// </summary>
    public static HashFunction? Hasher { get; set; }

    public static ObjectId Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Size];
        if (Hasher is { } hasher)
        {
            hasher(data, digest);
        }
        else
        {
            SHA256.HashData(data, digest);
        }

        return Read(digest);
    }

    /// <summary>SHA-256 over data given in pieces, ending in an id.</summary>
    public interface IIncrementalHash : IDisposable
    {
        void Append(ReadOnlySpan<byte> data);

        ObjectId Finish();
    }

    /// <summary>What <see cref="StartHash"/> makes instead of .NET's incremental SHA-256, when set (see <see cref="Hasher"/>).</summary>
    public static Func<IIncrementalHash>? IncrementalHasher { get; set; }

    /// <summary>A new incremental SHA-256: <see cref="IncrementalHasher"/>'s, else .NET's.</summary>
    public static IIncrementalHash StartHash() => IncrementalHasher?.Invoke() ?? new SystemHash();

    /// <summary>The id of all INPUT holds, read through a pooled buffer (one file after another: no large object each).</summary>
    public static ObjectId HashStream(Stream input)
    {
        using var hash = StartHash();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            for (int n; (n = input.Read(buffer)) > 0;)
            {
                hash.Append(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return hash.Finish();
    }

    private sealed class SystemHash : IIncrementalHash
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

        public ObjectId Finish() => FromHash(_hash);

        public void Dispose() => _hash.Dispose();
    }

    public static ObjectId FromHash(IncrementalHash hash)
    {
        Span<byte> digest = stackalloc byte[Size];
        hash.GetHashAndReset(digest);
        return Read(digest);
    }

    public static ObjectId Parse(string hex)
    {
        if (!TryParse(hex, out var id))
        {
            throw new FormatException($"'{hex}' is not a 64-digit hex SHA-256");
        }

        return id;
    }

    public static bool TryParse(string hex, out ObjectId id)
    {
        id = default;
        if (hex.Length != Size * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        id = Read(bytes);
        return true;
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        Write(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public string Short => ToString()[..12];

    public bool StartsWith(string hexPrefix) => ToString().StartsWith(hexPrefix, StringComparison.OrdinalIgnoreCase);

    public bool Equals(ObjectId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is ObjectId other && Equals(other);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    public int CompareTo(ObjectId other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

    public static bool operator ==(ObjectId left, ObjectId right) => left.Equals(right);

    public static bool operator !=(ObjectId left, ObjectId right) => !left.Equals(right);

    public static bool operator <(ObjectId left, ObjectId right) => left.CompareTo(right) < 0;

    public static bool operator >(ObjectId left, ObjectId right) => left.CompareTo(right) > 0;

    public static bool operator <=(ObjectId left, ObjectId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ObjectId left, ObjectId right) => left.CompareTo(right) >= 0;
}

/// <summary>What an object holds. Persisted in pack indexes: never renumber.</summary>
public enum ObjectKind : byte
{
    /// <summary>Raw file data: a whole small file, or one chunk of a big one.</summary>
    Blob = 1,

    /// <summary>One directory: its entries with their metadata.</summary>
    Tree = 2,

    /// <summary>One image version: root, parent, time, message.</summary>
    Commit = 3,

    /// <summary>A big file as a list of chunks; its id is the SHA-256 of the whole file data.</summary>
    ChunkList = 4,
}
