using System.Buffers.Binary;
using System.Text;
using Sidus.Wire.Dhcp;

namespace Sidus.Wire.Tests.Dhcp;

public class DhcpPacketTests
{
    [Fact]
    public void Decode_PxeDiscoverHex_ReadsEveryField()
    {
        var packet = DhcpPacket.Decode(DhcpTestPackets.PxeDiscover);

        Assert.Equal(DhcpConstants.OpBootRequest, packet.Op);
        Assert.Equal(0x12345678u, packet.Xid);
        Assert.True(packet.IsBroadcast);
        Assert.Equal("52:54:00:12:34:56", packet.ClientMac);
        Assert.Equal(DhcpMessageType.Discover, packet.MessageType);
        Assert.Equal("PXEClient", packet.Options.GetString(DhcpOptionCode.VendorClassIdentifier));
        Assert.True(packet.Options.TryGet(DhcpOptionCode.ClientSystemArchitecture, out var arch));
        Assert.Equal(new byte[] { 0, 7 }, arch.ToArray());
        Assert.True(packet.Options.TryGet(DhcpOptionCode.ParameterRequestList, out var wanted));
        Assert.Equal(new byte[] { 1, 3, 6 }, wanted.ToArray());
        Assert.Equal("", packet.FileName);
    }

    [Fact]
    public void Encode_Offer_WritesExactBytes()
    {
        var offer = new DhcpPacket { Op = DhcpConstants.OpBootReply, Xid = 0x01020304, Yiaddr = Ip4.Parse("10.0.0.5"), Siaddr = Ip4.Parse("10.0.0.1") };
        Convert.FromHexString("aabbccddeeff").CopyTo(offer.Chaddr, 0);
        offer.FileName = "undionly.kpxe";
        offer.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse("10.0.0.1"));
        offer.Options.SetByte(DhcpOptionCode.MessageType, (byte)DhcpMessageType.Offer);

        var bytes = offer.ToArray();

        Assert.Equal(DhcpConstants.MinimumReplySize, bytes.Length);
        Assert.Equal("02010600" + "01020304" + "00000000" + "00000000" + "0a000005" + "0a000001" + "00000000" + "aabbccddeeff",
            Convert.ToHexStringLower(bytes.AsSpan(0, 34)));
        Assert.Equal(Convert.ToHexStringLower("undionly.kpxe\0"u8), Convert.ToHexStringLower(bytes.AsSpan(DhcpConstants.FileOffset, 14)));
        // Message type first although it was set last, then server identifier, then End, then zero padding.
        Assert.Equal("63825363" + "350102" + "36040a000001" + "ff", Convert.ToHexStringLower(bytes.AsSpan(DhcpConstants.MagicCookieOffset, 14)));
        Assert.All(bytes.AsSpan(DhcpConstants.MagicCookieOffset + 14).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Decode_EveryPrefixOfValidPacket_IsIncomplete()
    {
        var whole = DhcpTestPackets.PxeDiscover;
        for (var length = 0; length < whole.Length; length++)
        {
            Assert.False(DhcpPacket.TryDecode(whole.AsSpan(0, length), out _, out var error));
            Assert.True(error.IsIncomplete(), $"prefix of {length} bytes gave {error}");
            Assert.Equal(length < DhcpConstants.OptionsOffset ? DhcpFormatError.Truncated : DhcpFormatError.OptionsTruncated, error);
        }
        Assert.True(DhcpPacket.TryDecode(whole, out _, out _));
    }

    [Theory]
    [InlineData(DhcpConstants.OpOffset, 3, DhcpFormatError.BadOp)]
    [InlineData(DhcpConstants.HLenOffset, 17, DhcpFormatError.BadHardwareLength)]
    [InlineData(DhcpConstants.HopsOffset, 17, DhcpFormatError.TooManyHops)]
    [InlineData(DhcpConstants.MagicCookieOffset, 0x64, DhcpFormatError.MissingMagicCookie)]
    [InlineData(DhcpConstants.OptionsOffset + 2, 9, DhcpFormatError.BadMessageType)]
    [InlineData(DhcpConstants.OptionsOffset + 4, 200, DhcpFormatError.OptionsTruncated)]
    public void Decode_CorruptedByte_IsRejectedWithReason(int offset, byte value, DhcpFormatError expected)
    {
        var bytes = DhcpTestPackets.PxeDiscover;
        bytes[offset] = value;

        var rejection = Assert.Throws<DhcpFormatException>(() => DhcpPacket.Decode(bytes));

        Assert.Equal(expected, rejection.Error);
    }

    [Theory]
    [InlineData("3d00", DhcpFormatError.BadOptionLength)] // zero-length client identifier
    [InlineData("340104", DhcpFormatError.BadOverload)]
    [InlineData("34020101", DhcpFormatError.BadOverload)]
    [InlineData("5d0107", DhcpFormatError.BadOptionLength)]
    [InlineData("3203c0a800", DhcpFormatError.BadOptionLength)] // a requested address is 4 bytes
    public void Decode_BadOption_IsRejected(string optionHex, DhcpFormatError expected)
    {
        var bytes = WithOptions("350101" + optionHex + "ff");

        Assert.False(DhcpPacket.TryDecode(bytes, out _, out var error));
        Assert.Equal(expected, error);
        Assert.False(error.IsIncomplete());
    }

    [Fact]
    public void Decode_TwoByteMessageType_IsInvalid()
    {
        Assert.False(DhcpPacket.TryDecode(WithOptions("35020101ff"), out _, out var error));
        Assert.Equal(DhcpFormatError.BadOptionLength, error);
    }

    [Fact]
    public void Decode_MissingMessageType_IsInvalid()
    {
        Assert.False(DhcpPacket.TryDecode(WithOptions("0c026869ff"), out _, out var error));
        Assert.Equal(DhcpFormatError.MissingMessageType, error);
    }

    [Fact]
    public void Decode_TooLarge_IsInvalid()
    {
        var bytes = new byte[DhcpConstants.MaxPacketSize + 1];
        DhcpTestPackets.PxeDiscover.CopyTo(bytes, 0);
        Assert.False(DhcpPacket.TryDecode(bytes, out _, out var error));
        Assert.Equal(DhcpFormatError.TooLarge, error);
    }

    [Fact]
    public void Decode_OverloadedFileAndSname_ReadsOptionsFromBoth()
    {
        var bytes = WithOptions("350103" + "340103" + "ff");
        var file = Convert.FromHexString("0c046e6f6465" + "ff");
        var sname = Convert.FromHexString("0f036c6162" + "ff");
        file.CopyTo(bytes, DhcpConstants.FileOffset);
        sname.CopyTo(bytes, DhcpConstants.SnameOffset);

        var packet = DhcpPacket.Decode(bytes);

        Assert.Equal("node", packet.Options.GetString(DhcpOptionCode.HostName));
        Assert.Equal("lab", packet.Options.GetString(DhcpOptionCode.DomainName));
        Assert.Equal("", packet.FileName);
        Assert.Equal("", packet.ServerName);
        Assert.False(packet.Options.Contains(DhcpOptionCode.Overload));
    }

    [Fact]
    public void Decode_OverloadedFileWithoutEnd_IsInvalid()
    {
        var bytes = WithOptions("350103" + "340101" + "ff");
        bytes.AsSpan(DhcpConstants.FileOffset, DhcpConstants.FileSize).Fill(0x0c);

        Assert.False(DhcpPacket.TryDecode(bytes, out _, out var error));
        Assert.Equal(DhcpFormatError.BadOverload, error);
    }

    [Fact]
    public void Decode_SplitLongOption_IsConcatenated()
    {
        var packet = DhcpPacket.Decode(WithOptions("350101" + "2b03010203" + "0c0141" + "2b020405" + "ff"));

        Assert.True(packet.Options.TryGet(DhcpOptionCode.VendorSpecific, out var value));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, value.ToArray());
    }

    [Fact]
    public void Encode_OptionLongerThan255_IsSplitAndRoundTrips()
    {
        var packet = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:01");
        var big = Enumerable.Range(0, 600).Select(i => (byte)i).ToArray();
        packet.Options.Set(DhcpOptionCode.VendorSpecific, big);

        var bytes = packet.ToArray();
        var again = DhcpPacket.Decode(bytes);

        Assert.Equal(DhcpConstants.OptionsOffset + 3 + (600 + 3 * 2) + 1, bytes.Length);
        Assert.True(again.Options.TryGet(DhcpOptionCode.VendorSpecific, out var value));
        Assert.Equal(big, value.ToArray());
    }

    [Fact]
    public void Encode_LongFileName_StaysNulTerminated()
    {
        var packet = new DhcpPacket();
        packet.Options.SetByte(DhcpOptionCode.MessageType, 2);
        packet.FileName = new string('f', DhcpConstants.FileSize - 1);

        var bytes = packet.ToArray();

        Assert.Equal(0, bytes[DhcpConstants.FileOffset + DhcpConstants.FileSize - 1]);
        Assert.Throws<ArgumentException>(() => packet.FileName = new string('f', DhcpConstants.FileSize));
    }

    [Fact]
    public void Decode_RandomMutations_OnlyEverRejectWithTypedError()
    {
        var random = new Random(20261122);
        var seeds = new[] { DhcpTestPackets.PxeDiscover, WithOptions("350103" + "2b03010203" + "3d0701525400123456" + "0c0468657265" + "ff") };
        var accepted = 0;
        var rejected = 0;
        for (var round = 0; round < 30_000; round++)
        {
            var seed = seeds[round % seeds.Length];
            var bytes = Mutate(random, seed);
            DhcpFuzz.Run(bytes);
            try
            {
                DhcpPacket.Decode(bytes);
                accepted++;
            }
            catch (DhcpFormatException)
            {
                rejected++;
            }
        }
        // Both outcomes must occur, or the mutator is not exercising the parser.
        Assert.True(accepted > 100, $"accepted {accepted}");
        Assert.True(rejected > 100, $"rejected {rejected}");
    }

    [Fact]
    public void Decode_RandomBytes_OnlyEverRejectWithTypedError()
    {
        var random = new Random(7);
        for (var round = 0; round < 5_000; round++)
        {
            var bytes = new byte[random.Next(0, 700)];
            random.NextBytes(bytes);
            if (bytes.Length > DhcpConstants.OptionsOffset && random.Next(2) == 0)
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(DhcpConstants.MagicCookieOffset), DhcpConstants.MagicCookie);
            DhcpFuzz.Run(bytes);
        }
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var bytes = seed.ToList();
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits; e++)
        {
            // Mostly touch the options area and the header fields the decoder checks.
            var position = random.Next(2) == 0 ? random.Next(DhcpConstants.OptionsOffset, bytes.Count) : random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(position, Math.Min(random.Next(1, 8), bytes.Count - position));
                    break;
                case 2:
                    bytes.Insert(position, (byte)random.Next(256));
                    break;
                default:
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    break;
            }
            if (bytes.Count == 0)
                break;
        }
        return [.. bytes];
    }

    private static byte[] WithOptions(string optionsHex)
    {
        var header = DhcpTestPackets.PxeDiscover.AsSpan(0, DhcpConstants.OptionsOffset).ToArray();
        return [.. header, .. Convert.FromHexString(optionsHex)];
    }
}
