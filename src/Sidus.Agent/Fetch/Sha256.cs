using System.Numerics;
using Sidus.Store.Objects;

namespace Sidus.Agent.Fetch;

/// <summary>
/// SHA-256 (FIPS 180-4) in managed code. .NET's own SHA-256 on Linux calls OpenSSL, which an initramfs does not
/// have; this keeps the agent's only native needs at libc and libm.
/// </summary>
internal static class Sha256
{
    private static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    public const int HashLength = 32;

    /// <summary>Where the system's OpenSSL would be: an installed system has it, an initramfs has not.</summary>
    private static readonly bool HasOpenSsl = new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib" }
        .Any(d => File.Exists(d + "/libssl.so.3") || File.Exists(d + "/libssl.so.1.1"));

    /// <summary>
    /// OpenSSL's SHA-256 (several times this one's speed) when the system has it, else this one: without OpenSSL,
    /// .NET's own aborts the process, and in an initramfs the agent is PID 1.
    /// </summary>
    public static byte[] HashFast(ReadOnlySpan<byte> data) => HasOpenSsl ? System.Security.Cryptography.SHA256.HashData(data) : Hash(data);

    /// <summary>Has the store's object ids (state caches, links' ids, files already on the target) hashed here when
    /// the system has no OpenSSL.</summary>
    public static void UseWhereNoOpenSsl()
    {
        if (!HasOpenSsl)
        {
            ObjectId.Hasher = (data, digest) => Hash(data).CopyTo(digest);
            ObjectId.IncrementalHasher = () => new Incremental();
        }
    }
    private const int BlockLength = 64;

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        using var hash = new Incremental();
        hash.Append(data);
        return hash.Finish();
    }

    /// <summary>The same SHA-256 over data given in pieces (a file read by extents).</summary>
    internal sealed class Incremental : ObjectId.IIncrementalHash
    {
        private readonly uint[] _h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        private readonly uint[] _w = new uint[64];
        private readonly byte[] _partial = new byte[BlockLength];
        private int _held;
        private ulong _length;

        public void Append(ReadOnlySpan<byte> data)
        {
            _length += (ulong)data.Length;
            if (_held > 0)
            {
                var take = Math.Min(BlockLength - _held, data.Length);
                data[..take].CopyTo(_partial.AsSpan(_held));
                _held += take;
                data = data[take..];
                if (_held < BlockLength)
                {
                    return;
                }

                Block(_h, _w, _partial);
                _held = 0;
            }

            var full = data.Length / BlockLength * BlockLength;
            for (var i = 0; i < full; i += BlockLength)
            {
                Block(_h, _w, data.Slice(i, BlockLength));
            }

            data[full..].CopyTo(_partial);
            _held = data.Length - full;
        }

        /// <summary>The digest; the padding is 0x80, zeros, then the bit length: one or two final blocks.</summary>
        public byte[] Finish()
        {
            Span<byte> tail = stackalloc byte[BlockLength * 2];
            tail.Clear();
            _partial.AsSpan(0, _held).CopyTo(tail);
            tail[_held] = 0x80;
            var tailLength = _held + 1 + 8 <= BlockLength ? BlockLength : BlockLength * 2;
            BinaryPrimitives.WriteUInt64BigEndian(tail[(tailLength - 8)..], _length * 8);
            for (var i = 0; i < tailLength; i += BlockLength)
            {
                Block(_h, _w, tail.Slice(i, BlockLength));
            }

            var digest = new byte[HashLength];
            for (var i = 0; i < 8; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(digest.AsSpan(i * 4), _h[i]);
            }

            return digest;
        }

        ObjectId ObjectId.IIncrementalHash.Finish() => ObjectId.Read(Finish());

        public void Dispose()
        {
        }
    }

    private static void Block(Span<uint> h, Span<uint> w, ReadOnlySpan<byte> block)
    {
        for (var t = 0; t < 16; t++)
        {
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(t * 4)..]);
        }

        for (var t = 16; t < 64; t++)
        {
            var s0 = BitOperations.RotateRight(w[t - 15], 7) ^ BitOperations.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
            var s1 = BitOperations.RotateRight(w[t - 2], 17) ^ BitOperations.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        uint a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (var t = 0; t < 64; t++)
        {
            var s1 = BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25);
            var ch = (e & f) ^ (~e & g);
            var t1 = hh + s1 + ch + K[t] + w[t];
            var s0 = BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22);
            var maj = (a & b) ^ (a & c) ^ (b & c);
            var t2 = s0 + maj;
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }

        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
    }
}
