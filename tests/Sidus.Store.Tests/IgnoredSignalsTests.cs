using Sidus.Linux;

namespace Sidus.Store.Tests;

/// <summary>The SigIgn mask of /proc/PID/status read as the kernel writes it (signal N is bit N-1).</summary>
public sealed class IgnoredSignalsTests
{
    [Theory]
    [InlineData("SigIgn:\t0000000000001007\n", 1, true)]
    [InlineData("SigIgn:\t0000000000001007\n", 2, true)]
    [InlineData("SigIgn:\t0000000000001007\n", 13, true)]
    [InlineData("SigIgn:\t0000000000001007\n", 15, false)]
    [InlineData("SigIgn:\t0000000000000000\n", 1, false)]
    [InlineData("SigCgt:\t0000000000000001\n", 1, false)]
    public void TheMaskSaysWhichSignalsAreIgnored(string status, int signal, bool ignored) =>
        Assert.Equal(ignored, IgnoredSignals.Contains("Name:\tsidus\nSigBlk:\t0000000000000000\n" + status, signal));
}
