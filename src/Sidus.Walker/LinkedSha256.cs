using System.Runtime.InteropServices;
using Sidus.Store.Objects;

namespace Sidus.Walker;

/// <summary>
/// SHA-256 from OpenSSL's libcrypto, linked into the walker (its plain SHA256_* functions, which use the CPU's SHA
/// or AVX2 instructions where it has them). .NET's own SHA-256 opens the client's libssl when first used, and a
/// minimal or older golden client may have none, or another version: the process would abort. Linked in, the
/// walker needs nothing from the client but its kernel.
/// </summary>
internal static unsafe partial class LinkedSha256
{
    /// <summary>Bound to the libcrypto.a the walker is linked with (DirectPInvoke in Sidus.Walker.csproj), never opened at run time.</summary>
    private const string Lib = "libcrypto";

    /// <summary>sizeof(SHA256_CTX) is 112 bytes; more room costs nothing.</summary>
    private const int ContextSize = 128;

    /// <summary>Makes every object id of this process hashed here (<see cref="ObjectId.Hash"/> and <see cref="ObjectId.StartHash"/>).</summary>
    public static void Use()
    {
        ObjectId.Hasher = Hash;
        ObjectId.IncrementalHasher = () => new Incremental();
    }

    /// <summary>Through the incremental functions, with the context on the stack (one call per tree object hashed):
    /// OpenSSL 3's one-shot SHA256() goes through its providers, which would link in most of libcrypto.</summary>
    private static void Hash(ReadOnlySpan<byte> data, Span<byte> digest)
    {
        var context = stackalloc byte[ContextSize];
        Span<byte> result = stackalloc byte[ObjectId.Size];
        fixed (byte* d = data)
        fixed (byte* md = result)
        {
            Check(SHA256_Init(context), "SHA256_Init");
            Check(SHA256_Update(context, d, (nuint)data.Length), "SHA256_Update");
            Check(SHA256_Final(md, context), "SHA256_Final");
        }

        result.CopyTo(digest);
    }

    private static void Check(int result, string what)
    {
        if (result != 1)
        {
            throw new InvalidOperationException($"libcrypto's {what} failed");
        }
    }

    private sealed class Incremental : ObjectId.IIncrementalHash
    {
        private byte* _context = (byte*)NativeMemory.AllocZeroed(ContextSize);

        public Incremental() => Check(SHA256_Init(_context), "SHA256_Init");

        public void Append(ReadOnlySpan<byte> data)
        {
            ObjectDisposedException.ThrowIf(_context is null, this);
            fixed (byte* d = data)
            {
                Check(SHA256_Update(_context, d, (nuint)data.Length), "SHA256_Update");
            }
        }

        public ObjectId Finish()
        {
            ObjectDisposedException.ThrowIf(_context is null, this);
            Span<byte> digest = stackalloc byte[ObjectId.Size];
            fixed (byte* md = digest)
            {
                Check(SHA256_Final(md, _context), "SHA256_Final");
            }

            return ObjectId.Read(digest);
        }

        public void Dispose()
        {
            NativeMemory.Free(_context);
            _context = null;
        }
    }

    [LibraryImport(Lib)]
    private static partial int SHA256_Init(byte* context);

    [LibraryImport(Lib)]
    private static partial int SHA256_Update(byte* context, byte* data, nuint length);

    [LibraryImport(Lib)]
    private static partial int SHA256_Final(byte* digest, byte* context);
}
