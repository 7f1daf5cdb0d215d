using Sidus.Agent.Boot;
using Sidus.Agent.Network;

namespace Sidus.Agent.Tests;

/// <summary>The NBD watcher's wire encodings and parsers in exact bytes: RECONFIGURE, LINK_DEAD, multicast groups, /proc/net/tcp, its state file.</summary>
public sealed class NbdWatchCodeTests
{
    // A CTRL_CMD_NEWFAMILY answer for "nbd" (id 0x1A) with one multicast group "nbd_mc_group" (id 5).
    private const string NbdFamily = "01020000" + "06000100" + "1A000000" + "08000200" + "6E626400" +
                                     "24000700" + "20000100" + "08000200" + "05000000" + "11000100" + "6E62645F6D635F67726F7570" + "00000000";

    private const string TcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    [Fact]
    public void EncodeReconfigure_IndexAndSocket_ExactBytes()
    {
        var b = new byte[64];
        var n = NbdNetlink.EncodeReconfigure(0x1A, 7, 2, 9, b);
        Assert.Equal(44, n);
        Assert.Equal(
            "2C000000" + "1A00" + "0500" + "07000000" + "00000000" + // nlmsghdr: length, family, REQUEST|ACK, sequence, pid
            "03010000" + // genlmsghdr: NBD_CMD_RECONFIGURE, version 1
            "08000100" + "02000000" + // NBD_ATTR_INDEX 2
            "10000780" + "0C000180" + "08000100" + "09000000", // NBD_ATTR_SOCKETS { NBD_SOCK_ITEM { NBD_SOCK_FD 9 } }
            Convert.ToHexString(b, 0, n));
    }

    [Fact]
    public void EncodeDisconnect_Index_ExactBytes()
    {
        var b = new byte[64];
        var n = NbdNetlink.EncodeDisconnect(0x1A, 8, 1, b);
        Assert.Equal(28, n);
        Assert.Equal("1C000000" + "1A00" + "0500" + "08000000" + "00000000" + "02010000" + "08000100" + "01000000", Convert.ToHexString(b, 0, n));
    }

    [Fact]
    public void DecodeLinkDead_LinkDeadEvent_ReturnsIndex()
    {
        Assert.Equal(3, NbdNetlink.DecodeLinkDead(Convert.FromHexString("04010000" + "08000100" + "03000000")));
    }

    [Theory]
    [InlineData("01010000" + "08000100" + "03000000")] // NBD_CMD_CONNECT, not an event
    [InlineData("04010000")] // LINK_DEAD without an index
    [InlineData("0401")] // shorter than genlmsghdr
    [InlineData("04010000" + "06000100" + "0300")] // index attribute too short
    public void DecodeLinkDead_OtherOrIncomplete_Null(string hex)
    {
        Assert.Null(NbdNetlink.DecodeLinkDead(Convert.FromHexString(hex)));
    }

    [Fact]
    public void DecodeLinkDead_AttributeOverrunsMessage_Invalid()
    {
        Assert.Throws<InvalidDataException>(() => NbdNetlink.DecodeLinkDead(Convert.FromHexString("04010000" + "40000100" + "03000000")));
    }

    [Fact]
    public void DecodeGroupId_NbdFamily_FindsGroupByName()
    {
        var payload = Convert.FromHexString(NbdFamily);
        Assert.Equal(0x1A, GenericNetlink.DecodeFamilyId(payload));
        Assert.Equal(5u, GenericNetlink.DecodeGroupId(payload, NbdNetlink.MulticastGroup));
        Assert.Null(GenericNetlink.DecodeGroupId(payload, "nbd_mc"));
        Assert.Null(GenericNetlink.DecodeGroupId(Convert.FromHexString("01020000" + "06000100" + "1A000000"), NbdNetlink.MulticastGroup));
    }

    [Fact]
    public void DecodeGroupId_GroupOverrunsList_Invalid()
    {
        var bad = Convert.FromHexString("01020000" + "0C000700" + "40000100" + "08000200");
        Assert.Throws<InvalidDataException>(() => GenericNetlink.DecodeGroupId(bad, NbdNetlink.MulticastGroup));
    }

    [Theory]
    [InlineData("01", 54000, 10809, true)]
    [InlineData("08", 54000, 10809, false)] // CLOSE_WAIT: the server hung up
    [InlineData("04", 54000, 10809, false)] // FIN_WAIT1: the nbd driver shut it down
    [InlineData("01", 54001, 10809, false)]
    [InlineData("01", 54000, 10810, false)]
    public void IsEstablished_ProcNetTcpRow_MatchesStateAndPorts(string state, int local, int remote, bool expected)
    {
        var table = TcpHeader +
                    $"   0: 3200A8C0:D2F0 0100A8C0:2A39 {state} 00000000:00000000 02:000AFC2D 00000000     0        0 17021 2 0000000000000000 20 4 30 10 -1\n" +
                    "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15000 1 0000000000000000 100 0 0 10 0\n";
        Assert.Equal(expected, TcpTable.IsEstablished(table, local, remote));
    }

    [Fact]
    public void IsEstablished_Tcp6RowAndGarbage_ParsedOrIgnored()
    {
        var table = TcpHeader + "garbage\n   0: 0000000000000000FFFF00003200A8C0:D2F0 0000000000000000FFFF00000100A8C0:2A39 01 0 0 0 0 0\n";
        Assert.True(TcpTable.IsEstablished(table, 54000, 10809));
    }

    [Fact]
    public void NbdState_FormatThenParse_SameState()
    {
        var state = new NbdState(0, System.Net.IPEndPoint.Parse("10.77.0.1:10809"), "abc", 4096, 54000, "52:54:00:aa:bb:cc");
        var text = state.Format();
        Assert.Equal("index=0\nserver=10.77.0.1:10809\nexport=abc\nsize=4096\nlocal-port=54000\nmac=52:54:00:aa:bb:cc\n", text);
        Assert.Equal(state, NbdState.Parse(text));
    }

    [Theory]
    [InlineData("index=0\nserver=10.77.0.1:10809\nexport=abc\nsize=4096\nlocal-port=54000\n")] // no mac
    [InlineData("index=x\nserver=10.77.0.1:10809\nexport=abc\nsize=4096\nlocal-port=54000\nmac=m\n")]
    [InlineData("index=0\nserver=nowhere\nexport=abc\nsize=4096\nlocal-port=54000\nmac=m\n")]
    [InlineData("index=0\nserver=10.77.0.1:10809\nexport=abc\nsize=4096\nlocal-port=70000\nmac=m\n")]
    public void NbdState_Malformed_Invalid(string text)
    {
        Assert.Throws<InvalidDataException>(() => NbdState.Parse(text));
    }

    [Fact]
    public void InstallUnit_RunDirectory_UnitWantedBySysinitAndSparedAtShutdown()
    {
        var run = Directory.CreateTempSubdirectory("sidus-nbdwatch-").FullName;
        try
        {
            NbdWatchUnit.Install(run, "/run/sidus/agent");
            var unit = File.ReadAllText(Path.Combine(run, "systemd/system", NbdWatchUnit.UnitName));
            Assert.Contains("DefaultDependencies=no\n", unit, StringComparison.Ordinal);
            Assert.Contains("ExecStart=@/run/sidus/agent @sidus-nbd-watch nbd-watch\n", unit, StringComparison.Ordinal);
            var link = new FileInfo(Path.Combine(run, "systemd/system/sysinit.target.wants", NbdWatchUnit.UnitName));
            Assert.Equal("../" + NbdWatchUnit.UnitName, link.LinkTarget);
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }
}
