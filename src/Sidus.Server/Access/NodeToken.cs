using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Sidus.Store.Objects;

namespace Sidus.Server.Access;

internal enum NodeTokenKind : byte
{
    /// <summary>Written into a boot script: good for the version's boot files and for one claim.</summary>
    Ticket = 1,

    /// <summary>What a claim gives the agent: good for the version's content, its NBD export, the node's overrides and events.</summary>
    Session = 2,

    /// <summary>An installed node's own credential (docs/installed-nodes.md): what a session opens, for every version
    /// the node may run, across boots, until the node is revoked or installed again. Its version field is zero.</summary>
    Key = 3,
}

/// <summary>
/// A node credential as the server signs it: what it is, the machine (its boot MAC), the version it may read, the
/// boot it belongs to (a random id the script made), when it was issued and the address it was issued to. Stateless:
/// the HMAC-SHA256 of the server's key over these bytes is the proof; what must be remembered (claims, the latest
/// boot of each node) is in <see cref="NodeBootJournal"/>.
/// </summary>
/// <remarks>
/// 73 bytes, 98 characters: a ticket shares the kernel command line (at most 1536 characters) with the operator's
/// arguments, so every field is as short as it safely can be: the boot id is 64 random bits, the time 48 bits of
/// milliseconds, the HMAC cut to 128 bits (RFC 2104's truncation; forging still takes 2^128 tries).
/// </remarks>
internal sealed record NodeToken(NodeTokenKind Kind, MacAddress Mac, ObjectId Version, ulong Boot, DateTimeOffset Issued, IPAddress? Address)
{
    private const int KindOffset = 0;
    private const int MacOffset = KindOffset + 1;
    private const int VersionOffset = MacOffset + MacAddress.Length;
    private const int BootOffset = VersionOffset + ObjectId.Size;
    private const int BootLength = 8;
    private const int IssuedOffset = BootOffset + BootLength;
    private const int IssuedLength = 6;
    private const int AddressOffset = IssuedOffset + IssuedLength;
    private const int PayloadLength = AddressOffset + 4;
    private const int SignatureLength = 16;
    private const int Length = PayloadLength + SignatureLength;

    /// <summary>The token as base64url text, signed with KEY.</summary>
    public string Sign(byte[] key)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[KindOffset] = (byte)Kind;
        Mac.WriteBytes(bytes.Slice(MacOffset, MacAddress.Length));
        Version.Write(bytes.Slice(VersionOffset, ObjectId.Size));
        BinaryPrimitives.WriteUInt64BigEndian(bytes.Slice(BootOffset, BootLength), Boot);
        Span<byte> issued = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(issued, Issued.ToUnixTimeMilliseconds());
        issued[(8 - IssuedLength)..].CopyTo(bytes.Slice(IssuedOffset, IssuedLength));
        if (Address is { AddressFamily: AddressFamily.InterNetwork } v4)
        {
            v4.TryWriteBytes(bytes.Slice(AddressOffset, 4), out _);
        }

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, bytes[..PayloadLength], mac);
        mac[..SignatureLength].CopyTo(bytes[PayloadLength..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The token TEXT holds when KEY signed it; null for anything else (malformed, forged, truncated).</summary>
    public static NodeToken? Verify(byte[] key, string text)
    {
        if (!NodeCredentials.IsWellFormed(text) || Base64Url.GetMaxDecodedLength(text.Length) < Length)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[Base64Url.GetMaxDecodedLength(text.Length)];
        if (!Base64Url.TryDecodeFromChars(text, bytes, out var written) || written != Length)
        {
            return null;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, bytes[..PayloadLength], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected[..SignatureLength], bytes.Slice(PayloadLength, SignatureLength)) ||
            bytes[KindOffset] is not ((byte)NodeTokenKind.Ticket or (byte)NodeTokenKind.Session or (byte)NodeTokenKind.Key))
        {
            return null;
        }

        var address = bytes.Slice(AddressOffset, 4);
        Span<byte> issued = stackalloc byte[8];
        bytes.Slice(IssuedOffset, IssuedLength).CopyTo(issued[(8 - IssuedLength)..]);
        return new NodeToken(
            (NodeTokenKind)bytes[KindOffset],
            MacAddress.FromBytes(bytes.Slice(MacOffset, MacAddress.Length)),
            ObjectId.Read(bytes.Slice(VersionOffset, ObjectId.Size)),
            BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice(BootOffset, BootLength)),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(issued)),
            address.IndexOfAnyExcept((byte)0) < 0 ? null : new IPAddress(address));
    }
}
