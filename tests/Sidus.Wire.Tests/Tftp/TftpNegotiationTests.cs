using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

public class TftpNegotiationTests
{
    private static readonly TftpServerOptions Limits = new() { RootDirectory = "/srv", MaxBlockSize = 1468, MaxWindowSize = 64 };

    [Fact]
    public void Negotiate_NoOptions_IsLockStep512WithoutOack()
    {
        var p = TftpNegotiation.Negotiate(default, 1000, Limits);

        Assert.Equal(512, p.BlockSize);
        Assert.Equal(1, p.WindowSize);
        Assert.Empty(p.OptionAck);
    }

    [Fact]
    public void Negotiate_LargeRequests_AreClampedToServerLimits()
    {
        var p = TftpNegotiation.Negotiate(new TftpRequestedOptions(65464, null, null, 1000), null, Limits);

        Assert.Equal(1468, p.BlockSize);
        Assert.Equal(64, p.WindowSize);
        Assert.Equal(new[] { new TftpOption("blksize", "1468"), new TftpOption("windowsize", "64") }, p.OptionAck);
    }

    [Fact]
    public void Negotiate_TransferSize_AnswersTheRealSize()
    {
        var p = TftpNegotiation.Negotiate(new TftpRequestedOptions(null, 0, 5, null), 123456789, Limits);

        Assert.Equal(new[] { new TftpOption("tsize", "123456789"), new TftpOption("timeout", "5") }, p.OptionAck);
        Assert.Equal(TimeSpan.FromSeconds(5), p.RetransmitTimeout);
    }

    [Fact]
    public void Negotiate_TransferSizeOfUnknownLength_IsNotAcknowledged()
    {
        var p = TftpNegotiation.Negotiate(new TftpRequestedOptions(null, 0, null, null), null, Limits);

        Assert.Empty(p.OptionAck);
    }

    [Fact]
    public void Negotiate_TransferSizeOfEmptyFile_IsNotAcknowledged()
    {
        var p = TftpNegotiation.Negotiate(new TftpRequestedOptions(1468, 0, null, null), 0, Limits);

        Assert.Equal(new[] { new TftpOption("blksize", "1468") }, p.OptionAck);
    }
}
