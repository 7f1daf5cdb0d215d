using System.Text;
using Sidus.Agent.Boot;

namespace Sidus.Agent.Tests;

/// <summary>
/// The watcher's reading of /dev/kmsg records and its choice of which to forward. The headers are real records of
/// this machine's /dev/kmsg; the dm-verity message is the line the VM's kernel (bookworm 6.1) logs for a corrupt
/// block (VerityBootTests).
/// </summary>
public sealed class KernelLogCodeTests
{
    private const string Corrupt = "device-mapper: verity: 43:0: data block 57503 is corrupted";

    private static KernelLogRecord Record(string text) => KernelLogRecord.Parse(Encoding.UTF8.GetBytes(text)) ?? throw new InvalidDataException(text);

    [Fact]
    public void Parse_RealRecord_LevelSequenceTimeMessage()
    {
        var r = Record("6,7798,25453456446,-;br0: port 5(p4-e6a5) entered blocking state\n");
        Assert.Equal(new KernelLogRecord(6, 7798, 25453456446, "br0: port 5(p4-e6a5) entered blocking state"), r);
    }

    [Fact]
    public void Parse_FacilityAndContinuationLines_LevelIsLowBitsMessageIsFirstLine()
    {
        // Facility 1 (user) * 8 + level 3; the dictionary lines after the message are not part of it.
        var r = Record($"11,12,3000000,c,caller=T1;{Corrupt}\n SUBSYSTEM=block\n DEVICE=b253:0\n");
        Assert.Equal((3, 12UL, Corrupt), (r.Level, r.Sequence, r.Message));
    }

    [Theory]
    [InlineData("")]
    [InlineData("6,7798,25453456446,- no semicolon")]
    [InlineData("6,7798;two fields")]
    [InlineData("x,7798,1,-;not a number")]
    [InlineData("6,-1,1,-;negative")]
    public void Parse_NotARecord_Null(string text)
    {
        Assert.Null(KernelLogRecord.Parse(Encoding.UTF8.GetBytes(text)));
    }

    [Theory]
    [InlineData("3,900,22000000,-;" + Corrupt, true)]
    [InlineData("3,901,22000001,-;device-mapper: verity: 43:0: reached maximum errors", true)]
    [InlineData("4,902,22000002,-;device-mapper: verity: a warning, not an error", false)]
    [InlineData("3,903,22000003,-;device-mapper: table: 253:0: verity: Data device lookup failed", false)]
    [InlineData("3,904,22000004,-;blk_update_request: I/O error, dev nbd0, sector 0", false)]
    public void IsVerityError_Record_OnlyDmVerityErrors(string text, bool expected)
    {
        Assert.Equal(expected, VerityErrorReports.IsVerityError(Record(text)));
    }

    [Fact]
    public void Offer_ErrorsWithinInterval_FirstSentRestCountedIntoTheNext()
    {
        var reports = new VerityErrorReports(TimeSpan.FromMinutes(1));
        var error = Record("3,900,22000000,-;" + Corrupt);
        Assert.Equal("dm-verity error on the root (its reader got an I/O error): " + Corrupt, reports.Offer(error, TimeSpan.FromSeconds(10)));
        Assert.Null(reports.Offer(error, TimeSpan.FromSeconds(11)));
        Assert.Null(reports.Offer(Record("6,901,22000001,-;br0: port 5(p4-e6a5) entered blocking state"), TimeSpan.FromSeconds(12)));
        Assert.Null(reports.Offer(error, TimeSpan.FromSeconds(69)));
        Assert.Equal("dm-verity error on the root (its reader got an I/O error): " + Corrupt + " (and 2 more since the last report)",
            reports.Offer(error, TimeSpan.FromSeconds(70)));
        Assert.Null(reports.Offer(error, TimeSpan.FromSeconds(71)));
    }

    /// <summary>The watcher's own reading, against this machine's real /dev/kmsg (it holds thousands of records).</summary>
    [Fact]
    public async Task ReadRecord_ThisMachinesKmsg_OneRecordPerReadInSequence()
    {
        var read = Task.Run(() =>
        {
            using var kmsg = KernelLogWatch.Open();
            var buffer = new byte[16384];
            return Enumerable.Range(0, 3).Select(_ => KernelLogWatch.ReadRecord(kmsg, buffer)).ToList();
        });
        var records = await read.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.All(records, r => Assert.NotNull(r));
        Assert.True(records[0]!.Value.Sequence < records[1]!.Value.Sequence && records[1]!.Value.Sequence < records[2]!.Value.Sequence,
            string.Join(" | ", records));
        Assert.All(records, r => Assert.InRange(r!.Value.Level, 0, 7));
    }

    [Fact]
    public void Offer_NotVerity_NeverSent()
    {
        var reports = new VerityErrorReports(TimeSpan.FromMinutes(1));
        Assert.Null(reports.Offer(Record("6,7798,25453456446,-;br0: port 5(p4-e6a5) entered blocking state\n"), TimeSpan.Zero));
    }
}
