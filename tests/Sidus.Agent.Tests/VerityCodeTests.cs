using System.Buffers.Binary;
using System.Text;
using Sidus.Agent.Boot;
using Sidus.Linux;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests;

/// <summary>
/// The agent's dm-verity table and the device-mapper requests it sends, in exact bytes (this machine's kernel
/// has no device-mapper; the boot tests run them against the VM's kernel).
/// </summary>
public sealed class VerityCodeTests
{
    private const string Root = "4392fe1e6a1e7a4e34d0a48f4a5e4ae7f21d3c07b3f1c5a4bbf84a1d2a7c4f10";

    [Fact]
    public void Table_VerityArgument_IsVerityFormat1OverOneDevice()
    {
        Assert.True(VerityInfo.TryParse($"{Root}:00ff:97312", out var verity, out var problem), problem);
        var target = VerityRoot.Table(verity!, "/dev/nbd0");
        Assert.Equal((0UL, 97312UL * 8, "verity"), (target.StartSector, target.Sectors, target.Type));
        Assert.Equal($"1 /dev/nbd0 /dev/nbd0 4096 4096 97312 97312 sha256 {Root} 00ff", target.Parameters);
    }

    [Theory]
    [InlineData(DeviceMapper.DM_DEV_CREATE, 0xC138FD03UL)]
    [InlineData(DeviceMapper.DM_DEV_REMOVE, 0xC138FD04UL)]
    [InlineData(DeviceMapper.DM_DEV_SUSPEND, 0xC138FD06UL)]
    [InlineData(DeviceMapper.DM_TABLE_LOAD, 0xC138FD09UL)]
    public void Request_Command_IsDmIoctlNumber(int command, ulong expected)
    {
        Assert.Equal(expected, DeviceMapper.Request(command));
    }

    [Fact]
    public void EncodeTableLoad_OneTarget_HeaderSpecAndParameters()
    {
        var b = new byte[1024];
        var n = DeviceMapper.EncodeTableLoad(b, "sidus-root", new DmTarget(0, 16, "verity", "1 /dev/nbd0"), readOnly: true);
        // 312 header + 40 spec + "1 /dev/nbd0" and NUL (12) = 364, padded to 368.
        Assert.Equal(368, n);
        Assert.Equal("040000000000000000000000", Convert.ToHexString(b, 0, 12)); // version 4.0.0
        Assert.Equal(368u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12))); // data_size
        Assert.Equal(312u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16))); // data_start
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20))); // target_count
        Assert.Equal(DeviceMapper.DM_READONLY_FLAG, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(28)));
        Assert.Equal("sidus-root", Encoding.ASCII.GetString(b, 48, 10));
        Assert.Equal(0, b[58]);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(312))); // sector_start
        Assert.Equal(16UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(320))); // length
        Assert.Equal(56u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(332))); // next
        Assert.Equal("verity\0", Encoding.ASCII.GetString(b, 336, 7));
        Assert.Equal("1 /dev/nbd0\0", Encoding.ASCII.GetString(b, 352, 12));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    public void EncodeHeader_BadName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => DeviceMapper.EncodeHeader(new byte[312], name, 0, 0, 0));
    }

    [Theory]
    [InlineData(0xFD00UL, 253u, 0u)]
    [InlineData(0xFD2CUL, 253u, 44u)]
    [InlineData(0x10FD00UL, 253u, 256u)] // minors past 255 go to bits 20 and up
    public void DecodeDevice_NewEncoding_MajorMinor(ulong dev, uint major, uint minor)
    {
        var answer = new byte[312];
        BinaryPrimitives.WriteUInt64LittleEndian(answer.AsSpan(40), dev);
        Assert.Equal((major, minor), DeviceMapper.DecodeDevice(answer));
    }
}
