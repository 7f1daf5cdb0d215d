using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

public sealed class ContentsRequestTests
{
    [Fact]
    public void Request_RoundTrips_BoundsAndFlagsChecked()
    {
        var ids = Enumerable.Range(0, 3).Select(i => Enumerable.Repeat((byte)i, 32).ToArray()).ToList();
        var body = ContentsRequest.Encode(ids, acceptZstd: true);
        Assert.Equal(1 + (3 * 32), body.Length);
        var (back, zstd) = ContentsRequest.Decode(body);
        Assert.True(zstd);
        Assert.Equal(ids, back);
        Assert.Throws<InvalidDataException>(() => ContentsRequest.Decode(body.AsSpan(0, 40)));
        Assert.Throws<InvalidDataException>(() => ContentsRequest.Decode([2, .. new byte[32]]));
        Assert.Throws<InvalidDataException>(() => ContentsRequest.Decode(new byte[1 + ((ContentsRequest.MaxIds + 1) * 32)]));
        Assert.Throws<ArgumentException>(() => ContentsRequest.Encode([], acceptZstd: false));
    }

    [Fact]
    public void Frame_HeaderExactBytes_MalformedRefused()
    {
        var header = new byte[ContentsFrame.HeaderLength];
        ContentsFrame.WriteHeader(header, Enumerable.Repeat((byte)0xab, 32).ToArray(), 0x0102, ContentsFrame.Zstd, 0x80);
        Assert.Equal("0000000000000102" + "01" + "0000000000000080", Convert.ToHexString(header.AsSpan(32)));
        Assert.Equal((0x0102L, ContentsFrame.Zstd, 0x80L), ContentsFrame.ReadHeader(header) is var (_, l, e, s) ? (l, e, s) : default);
        ContentsFrame.WriteHeader(header, new byte[32], 10, ContentsFrame.Raw, 9);
        Assert.Throws<InvalidDataException>(() => ContentsFrame.ReadHeader(header));
        Assert.Throws<InvalidDataException>(() => ContentsFrame.ReadHeader(header.AsSpan(0, 48)));
    }

    [Fact]
    public void NodeVersion_ParsesItsOwnLine_RefusesOthers()
    {
        var v = new NodeVersion(new string('a', 64), "deb@2");
        Assert.Equal(v, NodeVersion.Parse(v.Format()));
        Assert.Null(NodeVersion.Parse("deb@2"));
        Assert.Null(NodeVersion.Parse(new string('A', 64) + " deb@2"));
        Assert.Null(NodeVersion.Parse(null));
    }

    [Fact]
    public void UpdateResult_JsonRoundTrips()
    {
        var r = new NodeUpdateResult
        {
            Version = new string('b', 64), Ref = "deb@3", Created = 5, BytesReceived = 1234, DriftKnown = true,
            Drift = [new DriftItem("modified", "/etc/motd")], RebootReasons = ["the kernel changed"], Problem = null,
        };
        var back = NodeUpdateResult.FromJson(r.ToJson());
        Assert.Equal((r.Version, r.Ref, r.Created, r.BytesReceived, true), (back.Version, back.Ref, back.Created, back.BytesReceived, back.RebootNeeded));
        Assert.Equal(r.Drift, back.Drift);
        Assert.Contains("\"rebootNeeded\":true", r.ToJson(), StringComparison.Ordinal);
        Assert.False(back.Rebooting);
        Assert.True(NodeUpdateResult.FromJson((r with { Rebooting = true }).ToJson()).Rebooting);
    }

    [Fact]
    public void Job_RoundTripsEverySetting_AndRefusesUnknownLines()
    {
        var job = new NodeJob(NodeJob.Update, 1733200000000, new string('c', 64), "deb@4", DryRun: false, NoDelete: true, KeepDrift: true,
            Excludes: ["/opt/local", "/srv/a b"], Reboot: true);
        var back = NodeJob.Parse(job.Format());
        Assert.Equal((job.Kind, job.At, job.To, job.ToRef, job.NoDelete, job.KeepDrift, job.Reboot), (back.Kind, back.At, back.To, back.ToRef, back.NoDelete, back.KeepDrift, back.Reboot));
        Assert.Equal(job.Excludes, back.Excludes);
        Assert.False(NodeJob.Parse((job with { Reboot = false }).Format()).Reboot);
        Assert.Throws<FormatException>(() => NodeJob.Parse("sidus-job 1\nkind update\nat 5\nto " + new string('c', 64) + " deb%404\nreboot now\n"));
    }
}
