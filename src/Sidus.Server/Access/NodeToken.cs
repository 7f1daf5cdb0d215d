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
}

/// <summary>
/// A node credential as the server signs it: what it is, the machine (its boot MAC), the version it may read, the
/// boot it belongs to (a random id the script made), when it was issued and the address it was issued to. Stateless:
/// the HMAC-SHA256 of the server's key over these bytes is the proof; what must be remembered (claims, the latest
/// boot of each node) is in <see cref="NodeBootJournal"/>.
/// </summary>
internal sealed record NodeToken(NodeTokenKind Kind, MacAddress Mac, ObjectId Version, Guid Boot, DateTimeOffset Issued, IPAddress? Address)
{
    private const int KindOffset = 0;
    private const int MacOffset = KindOffset + 1;
    private const int VersionOffset = MacOffset + MacAddress.Length;
    private const int BootOffset = VersionOffset + ObjectId.Size;
    private const int IssuedOffset = BootOffset + 16;
    private const int AddressOffset = IssuedOffset + 8;
    private const int PayloadLength = AddressOffset + 4;
    private const int SignatureLength = 32;
    private const int Length = PayloadLength + SignatureLength;

    /// <summary>The token as base64url text, signed with KEY.</summary>
    public string Sign(byte[] key)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[KindOffset] = (byte)Kind;
        Mac.WriteBytes(bytes.Slice(MacOffset, MacAddress.Length));
        Version.Write(bytes.Slice(VersionOffset, ObjectId.Size));
        Boot.TryWriteBytes(bytes.Slice(BootOffset, 16));
        BinaryPrimitives.WriteInt64BigEndian(bytes.Slice(IssuedOffset, 8), Issued.ToUnixTimeMilliseconds());
        if (Address is { AddressFamily: AddressFamily.InterNetwork } v4)
        {
            v4.TryWriteBytes(bytes.Slice(AddressOffset, 4), out _);
        }

        HMACSHA256.HashData(key, bytes[..PayloadLength], bytes[PayloadLength..]);
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

        Span<byte> expected = stackalloc byte[SignatureLength];
        HMACSHA256.HashData(key, bytes[..PayloadLength], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.Slice(PayloadLength, SignatureLength)) ||
            bytes[KindOffset] is not ((byte)NodeTokenKind.Ticket or (byte)NodeTokenKind.Session))
        {
            return null;
        }

        var address = bytes.Slice(AddressOffset, 4);
        return new NodeToken(
            (NodeTokenKind)bytes[KindOffset],
            MacAddress.FromBytes(bytes.Slice(MacOffset, MacAddress.Length)),
            ObjectId.Read(bytes.Slice(VersionOffset, ObjectId.Size)),
            new Guid(bytes.Slice(BootOffset, 16)),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(bytes.Slice(IssuedOffset, 8))),
            address.IndexOfAnyExcept((byte)0) < 0 ? null : new IPAddress(address));
    }
}
