using System.Text;
using System.Text.Json;
using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes the boot event the node agent posts and the "up" report in it.</summary>
public sealed class NodeEventTests
{
    private static readonly UpReport Report = new()
    {
        Host = "n1",
        Image = "9f86d081",
        ImageRef = "deb@1",
        MachineId = "0123456789abcdef0123456789abcdef",
        SshEd25519 = "SHA256:abc",
        MemTotalKib = 2048000,
        MemAvailableKib = 1848000,
        ShmemKib = 4096,
        Root = "overlay:overlay",
        Lower = "erofs:/dev/dm-0",
        Upper = "tmpfs",
        Boot = 1,
    };

    private const string ReportDetail =
        "SIDUS-NODE-UP host=n1 image=9f86d081 imageref=deb@1 machine-id=0123456789abcdef0123456789abcdef ssh-ed25519=SHA256:abc " +
        "mem-total-kib=2048000 mem-available-kib=1848000 shmem-kib=4096 root=overlay:overlay lower=erofs:/dev/dm-0 upper=tmpfs boot=1 mem-used-kib=200000";

    private const string UpJson =
        "{\"stage\":\"up\",\"detail\":\"" + ReportDetail + "\",\"up\":{\"host\":\"n1\",\"image\":\"9f86d081\",\"imageRef\":\"deb@1\"," +
        "\"machineId\":\"0123456789abcdef0123456789abcdef\",\"sshEd25519\":\"SHA256:abc\",\"memTotalKib\":2048000,\"memAvailableKib\":1848000," +
        "\"shmemKib\":4096,\"root\":\"overlay:overlay\",\"lower\":\"erofs:/dev/dm-0\",\"upper\":\"tmpfs\",\"boot\":1}}";

    [Fact]
    public void Stages_Frozen() =>
        Assert.Equal(["agent", "root", "failed", "up"], [NodeEventStages.Agent, NodeEventStages.Root, NodeEventStages.Failed, NodeEventStages.Up]);

    [Fact]
    public void UpReport_Detail_FrozenText()
    {
        Assert.Equal(ReportDetail, Report.Detail());
        Assert.Equal(200000, Report.MemUsedKib);
    }

    [Fact]
    public void UpReport_MissingOrBlankValues_LeftOutOfTheDetail()
    {
        var report = new UpReport { Host = "n1", MachineId = "two words", MemTotalKib = 1 };
        Assert.Equal("SIDUS-NODE-UP host=n1 mem-total-kib=1", report.Detail());
        Assert.Null(report.MemUsedKib);
    }

    [Fact]
    public void ToJson_UpEvent_FrozenJson()
    {
        Assert.Equal(UpJson, new NodeEvent(NodeEventStages.Up, Report.Detail()) { Up = Report }.ToJson());
    }

    [Fact]
    public void ToJson_PlainEvent_OnlyStageAndDetail()
    {
        Assert.Equal("{\"stage\":\"agent\",\"detail\":\"lease \\u0022x\\u0022\\n\"}", new NodeEvent(NodeEventStages.Agent, "lease \"x\"\n").ToJson());
        Assert.Equal("{\"stage\":\"root\",\"detail\":\"overrides: 3 files (image=abc)\",\"image\":\"abc\"}",
            new NodeEvent(NodeEventStages.Root, "overrides: 3 files (image=abc)") { Image = "abc" }.ToJson());
    }

    [Fact]
    public void FromJson_ToJson_RoundTrips()
    {
        var report = new NodeEvent(NodeEventStages.Up, Report.Detail()) { Up = Report, Image = "9f86d081" };
        Assert.Equal(report, NodeEvent.FromJson(Encoding.UTF8.GetBytes(report.ToJson())));
        Assert.Equal(new NodeEvent(NodeEventStages.Up, ReportDetail) { Up = Report }, NodeEvent.FromJson(Encoding.UTF8.GetBytes(UpJson)));
    }

    [Fact]
    public void FromJson_StageAndDetailOnly_NoFacts()
    {
        var report = NodeEvent.FromJson("{\"stage\":\"up\",\"detail\":\"login prompt\",\"extra\":1}"u8);
        Assert.Equal(new NodeEvent("up", "login prompt"), report);
        Assert.Null(report.Up);
    }

    [Fact]
    public void UpReport_ToJson_FrozenJson_RoundTrips()
    {
        var json = UpJson[UpJson.IndexOf("{\"host\"", StringComparison.Ordinal)..^1];
        Assert.Equal(json, Report.ToJson());
        Assert.Equal(Report, UpReport.FromJson(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(new UpReport { Host = "n1" }, UpReport.FromJson("{\"host\":\"n1\",\"boot\":null,\"more\":{\"a\":[1]}}"u8));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{\"boot\":2147483648}")]
    [InlineData("{\"memTotalKib\":1.5}")]
    [InlineData("{\"host\":1}")]
    [InlineData("{} {}")]
    public void UpReport_FromJson_Malformed_JsonException(string json) =>
        Assert.Throws<JsonException>(() => UpReport.FromJson(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("")]
    [InlineData("[1,2]")]
    [InlineData("\"up\"")]
    [InlineData("null")]
    [InlineData("{\"stage\":")]
    [InlineData("{\"stage\":\"up\",\"up\":{\"boot\":\"many\"}}")]
    public void FromJson_Malformed_JsonException(string json) =>
        Assert.Throws<JsonException>(() => NodeEvent.FromJson(Encoding.UTF8.GetBytes(json)));
}
