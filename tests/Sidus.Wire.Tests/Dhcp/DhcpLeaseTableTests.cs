using Sidus.Wire.Dhcp;

namespace Sidus.Wire.Tests.Dhcp;

public sealed class DhcpLeaseTableTests : IDisposable
{
    private static readonly DhcpSubnet Subnet = new(Ip4.Parse("10.0.0.0"), Ip4.MaskFromPrefix(24), [DhcpPool.Parse("10.0.0.10-10.0.0.13")]);
    private static readonly Func<Ip4, bool> NoReservations = _ => false;
    private readonly ManualTime _time = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("sidus-leases-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Offer_ManyClients_NeverSameAddressAndExhaustsPool()
    {
        var table = new DhcpLeaseTable(_time);
        var given = new HashSet<Ip4>();
        for (var i = 0; i < 4; i++)
        {
            var lease = table.Offer($"02:00:00:00:00:0{i}", Subnet, null, null, NoReservations);
            Assert.NotNull(lease);
            Assert.True(Subnet.InPool(lease.Address));
            Assert.True(given.Add(lease.Address), $"{lease.Address} given twice");
        }
        Assert.Null(table.Offer("02:00:00:00:00:09", Subnet, null, null, NoReservations));
    }

    [Fact]
    public void Offer_SameClientTwice_GetsSameAddress()
    {
        var table = new DhcpLeaseTable(_time);
        var first = table.Offer("02:00:00:00:00:01", Subnet, null, null, NoReservations)!;
        var second = table.Offer("02:00:00:00:00:01", Subnet, null, null, NoReservations)!;
        Assert.Equal(first.Address, second.Address);
    }

    [Fact]
    public void Offer_HoldExpires_AddressGoesToAnother()
    {
        var table = new DhcpLeaseTable(_time) { OfferHold = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 4; i++)
            table.Offer($"02:00:00:00:00:0{i}", Subnet, null, null, NoReservations);
        Assert.Null(table.Offer("02:00:00:00:00:09", Subnet, null, null, NoReservations));

        _time.Advance(TimeSpan.FromSeconds(11));

        Assert.NotNull(table.Offer("02:00:00:00:00:09", Subnet, null, null, NoReservations));
    }

    [Fact]
    public void Offer_RequestedAddressFree_IsHonoured()
    {
        var table = new DhcpLeaseTable(_time);
        var lease = table.Offer("02:00:00:00:00:01", Subnet, null, Ip4.Parse("10.0.0.12"), NoReservations)!;
        Assert.Equal(Ip4.Parse("10.0.0.12"), lease.Address);
    }

    [Fact]
    public void Offer_ReservedForOther_IsSkipped()
    {
        var table = new DhcpLeaseTable(_time);
        var reserved = Ip4.Parse("10.0.0.10");
        var lease = table.Offer("02:00:00:00:00:01", Subnet, null, reserved, a => a == reserved)!;
        Assert.NotEqual(reserved, lease.Address);
    }

    [Fact]
    public void Bind_AddressHeldByOther_IsRefused()
    {
        var table = new DhcpLeaseTable(_time);
        var address = Ip4.Parse("10.0.0.11");
        Assert.NotNull(table.Bind("02:00:00:00:00:01", address, TimeSpan.FromHours(1), null));
        Assert.Null(table.Bind("02:00:00:00:00:02", address, TimeSpan.FromHours(1), null));
        _time.Advance(TimeSpan.FromHours(2));
        Assert.NotNull(table.Bind("02:00:00:00:00:02", address, TimeSpan.FromHours(1), null));
    }

    [Fact]
    public void Bind_ClientMovesOffALiveLease_OldAddressStaysItsUntilThatLeaseEnds()
    {
        var table = new DhcpLeaseTable(_time);
        var old = Ip4.Parse("10.0.0.10");
        table.Bind("02:00:00:00:00:01", old, TimeSpan.FromHours(1), null);
        _time.Advance(TimeSpan.FromMinutes(30));
        // The move may be forged (any chaddr): nobody else gets the old address before its lease's end.
        table.Bind("02:00:00:00:00:01", Ip4.Parse("10.0.0.11"), TimeSpan.FromHours(1), null);

        Assert.Equal(Ip4.Parse("10.0.0.11"), table.FindByMac("02:00:00:00:00:01")!.Address);
        Assert.False(table.IsAvailableTo(old, "02:00:00:00:00:02"));
        Assert.Null(table.Bind("02:00:00:00:00:02", old, TimeSpan.FromHours(1), null));
        Assert.NotEqual(old, table.Offer("02:00:00:00:00:02", Subnet, null, old, NoReservations)!.Address);
        Assert.Equal(Ip4.Parse("10.0.0.11"), table.LiveLeaseElsewhere("02:00:00:00:00:01", Ip4.Parse("10.0.0.12"))!.Address);

        _time.Advance(TimeSpan.FromMinutes(31));
        Assert.True(table.IsAvailableTo(old, "02:00:00:00:00:02"));
    }

    [Fact]
    public void Bind_ClientRenewsTheAddressItMovedOff_GetsItBackAndTheOtherStaysItsToo()
    {
        var table = new DhcpLeaseTable(_time);
        var old = Ip4.Parse("10.0.0.10");
        var moved = Ip4.Parse("10.0.0.11");
        table.Bind("02:00:00:00:00:01", old, TimeSpan.FromHours(1), null);
        table.Bind("02:00:00:00:00:01", moved, TimeSpan.FromHours(1), null);

        Assert.NotNull(table.Bind("02:00:00:00:00:01", old, TimeSpan.FromHours(1), null));

        Assert.Equal(old, table.FindByMac("02:00:00:00:00:01")!.Address);
        Assert.False(table.IsAvailableTo(moved, "02:00:00:00:00:02"));
    }

    [Fact]
    public void Offer_ClientMovesOffAnOffer_OldAddressIsFreeAtOnce()
    {
        var table = new DhcpLeaseTable(_time);
        var offered = table.Offer("02:00:00:00:00:01", Subnet, null, null, NoReservations)!;
        var other = new DhcpSubnet(Ip4.Parse("10.9.0.0"), Ip4.MaskFromPrefix(24), [DhcpPool.Parse("10.9.0.10-10.9.0.13")]);
        table.Offer("02:00:00:00:00:01", other, null, null, NoReservations);

        Assert.True(table.IsAvailableTo(offered.Address, "02:00:00:00:00:02"));
    }

    [Fact]
    public void Release_AddressStaysItsClientsUntilTheLeaseWouldHaveEnded()
    {
        var table = new DhcpLeaseTable(_time);
        var address = Ip4.Parse("10.0.0.11");
        table.Bind("02:00:00:00:00:01", address, TimeSpan.FromHours(1), null);
        Assert.False(table.Release("02:00:00:00:00:02", address));
        Assert.True(table.Release("02:00:00:00:00:01", address));

        // A RELEASE may be forged: nobody else gets the address before the lease's end, its client gets it back.
        Assert.Null(table.Bind("02:00:00:00:00:02", address, TimeSpan.FromHours(1), null));
        Assert.NotEqual(address, table.Offer("02:00:00:00:00:02", Subnet, null, address, NoReservations)!.Address);
        Assert.Equal(address, table.Offer("02:00:00:00:00:01", Subnet, null, null, NoReservations)!.Address);
        Assert.False(table.Release("02:00:00:00:00:01", address));

        _time.Advance(TimeSpan.FromMinutes(61));
        Assert.NotNull(table.Bind("02:00:00:00:00:02", address, TimeSpan.FromHours(1), null));
    }

    [Fact]
    public void Release_OfAnOfferOnly_IsRefusedCancelOfferGivesItBack()
    {
        var table = new DhcpLeaseTable(_time);
        var offered = table.Offer("02:00:00:00:00:01", Subnet, null, null, NoReservations)!;

        Assert.False(table.Release("02:00:00:00:00:01", offered.Address));
        table.CancelOffer("02:00:00:00:00:01");

        Assert.True(table.IsAvailableTo(offered.Address, "02:00:00:00:00:02"));
    }

    [Fact]
    public void Decline_QuarantinesForBoundedTime()
    {
        var table = new DhcpLeaseTable(_time) { DeclineQuarantine = TimeSpan.FromMinutes(5) };
        var address = Ip4.Parse("10.0.0.10");
        table.Offer("02:00:00:00:00:01", Subnet, null, address, NoReservations);
        Assert.Equal(DhcpDeclineOutcome.Quarantined, table.Decline("02:00:00:00:00:01", address));

        var next = table.Offer("02:00:00:00:00:01", Subnet, null, address, NoReservations)!;
        Assert.NotEqual(address, next.Address);
        Assert.False(table.IsAvailableTo(address, "02:00:00:00:00:05"));

        _time.Advance(TimeSpan.FromMinutes(6));
        Assert.True(table.IsAvailableTo(address, "02:00:00:00:00:05"));
    }

    [Fact]
    public void Decline_ByAnyoneButTheHolder_ChangesNothing()
    {
        var table = new DhcpLeaseTable(_time);
        var address = Ip4.Parse("10.0.0.10");
        table.Bind("02:00:00:00:00:01", address, TimeSpan.FromHours(1), null);

        Assert.Equal(DhcpDeclineOutcome.NotHolder, table.Decline("02:00:00:00:00:02", address));
        Assert.Equal(DhcpDeclineOutcome.NotHolder, table.Decline("02:00:00:00:00:02", Ip4.Parse("10.0.0.11")));
        Assert.Equal(DhcpLeaseState.Bound, table.FindByAddress(address)!.State);
        // Nor after the holder's lease ended.
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(DhcpDeclineOutcome.NotHolder, table.Decline("02:00:00:00:00:01", address));
    }

    [Fact]
    public void Decline_OfABoundLease_CountsOnlyRightAfterTheAck()
    {
        var table = new DhcpLeaseTable(_time) { DeclineWindow = TimeSpan.FromSeconds(60) };
        var probed = Ip4.Parse("10.0.0.10");
        var live = Ip4.Parse("10.0.0.11");
        table.Bind("02:00:00:00:00:01", probed, TimeSpan.FromHours(1), null);
        table.Bind("02:00:00:00:00:02", live, TimeSpan.FromHours(1), null);
        _time.Advance(TimeSpan.FromSeconds(5));

        // The client's ARP probe found its new address in use: quarantined.
        Assert.Equal(DhcpDeclineOutcome.Quarantined, table.Decline("02:00:00:00:00:01", probed));
        // A live node's address, a minute later: a forged DECLINE, ignored.
        _time.Advance(TimeSpan.FromSeconds(56));
        Assert.Equal(DhcpDeclineOutcome.TooLate, table.Decline("02:00:00:00:00:02", live));
        Assert.Equal(DhcpLeaseState.Bound, table.FindByAddress(live)!.State);
    }

    [Fact]
    public void Decline_AfterARenewal_IsIgnored()
    {
        var table = new DhcpLeaseTable(_time);
        var address = Ip4.Parse("10.0.0.10");
        table.Bind("02:00:00:00:00:01", address, TimeSpan.FromHours(1), null);
        _time.Advance(TimeSpan.FromMinutes(30));
        // A renewal (or a forged REQUEST for the node's own address) opens no new window.
        table.Bind("02:00:00:00:00:01", address, TimeSpan.FromHours(1), null);

        Assert.Equal(DhcpDeclineOutcome.TooLate, table.Decline("02:00:00:00:00:01", address));
        Assert.Equal(DhcpLeaseState.Bound, table.FindByAddress(address)!.State);
        Assert.Equal(0, table.Quarantined(Subnet));
    }

    [Fact]
    public void Decline_InALoop_QuarantinesAtMostTheClientsShare()
    {
        var subnet = new DhcpSubnet(Ip4.Parse("10.0.0.0"), Ip4.MaskFromPrefix(24), [DhcpPool.Parse("10.0.0.10-10.0.0.59")]);
        var table = new DhcpLeaseTable(_time) { DeclinesPerClient = 2 };
        var outcomes = new List<DhcpDeclineOutcome>();
        for (var i = 0; i < 50; i++)
        {
            var lease = table.Offer("02:00:00:00:00:01", subnet, null, null, NoReservations)!;
            table.Bind("02:00:00:00:00:01", lease.Address, TimeSpan.FromHours(1), null);
            outcomes.Add(table.Decline("02:00:00:00:00:01", lease.Address));
        }

        // Refused at the third address, which stays its lease; renewed, it is no longer declinable.
        Assert.Equal(2, outcomes.Count(o => o == DhcpDeclineOutcome.Quarantined));
        Assert.Equal(1, outcomes.Count(o => o == DhcpDeclineOutcome.ClientLimit));
        Assert.Equal(47, outcomes.Count(o => o == DhcpDeclineOutcome.TooLate));
        Assert.Equal(2, table.Quarantined(subnet));
        Assert.NotNull(table.Offer("02:00:00:00:00:02", subnet, null, null, NoReservations));
    }

    [Fact]
    public void Decline_ManyClients_QuarantineStopsAtThePoolShare()
    {
        var subnet = new DhcpSubnet(Ip4.Parse("10.0.0.0"), Ip4.MaskFromPrefix(24), [DhcpPool.Parse("10.0.0.10-10.0.0.59")]);
        var table = new DhcpLeaseTable(_time) { DeclineSharePercent = 10 };
        var outcomes = new List<DhcpDeclineOutcome>();
        for (var i = 0; i < 20; i++)
        {
            var mac = $"02:00:00:00:01:{i:x2}";
            var lease = table.Offer(mac, subnet, null, null, NoReservations)!;
            outcomes.Add(table.Decline(mac, lease.Address));
        }

        Assert.Equal(5, table.MaxQuarantined(subnet.Pools[0]));
        Assert.Equal(5, outcomes.Count(o => o == DhcpDeclineOutcome.Quarantined));
        Assert.Equal(15, outcomes.Count(o => o == DhcpDeclineOutcome.PoolLimit));
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(0, table.Quarantined(subnet));
    }

    [Fact]
    public void HasRoomForUnknown_LeavesTheHeldBackAddressesToNodes()
    {
        var table = new DhcpLeaseTable(_time) { UnknownOfferHold = TimeSpan.FromSeconds(10) };
        const int HeldBack = 1;
        var given = 0;
        for (var i = 0; i < 10 && table.HasRoomForUnknown(Subnet, HeldBack); i++)
        {
            Assert.NotNull(table.Offer($"02:00:00:00:02:{i:x2}", Subnet, null, null, NoReservations, unknown: true));
            given++;
        }

        Assert.Equal(3, given);
        Assert.Equal(3, table.UnknownHeld(Subnet));
        // The node still finds its address; an unknown machine's unanswered OFFER gives its address back in 10 s.
        Assert.NotNull(table.Offer("02:00:00:00:03:01", Subnet, null, null, NoReservations));
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(0, table.UnknownHeld(Subnet));
        Assert.True(table.HasRoomForUnknown(Subnet, HeldBack));
    }

    [Fact]
    public void HasRoomForUnknown_BoundUnknownLeasesCountUntilTheyEnd()
    {
        var table = new DhcpLeaseTable(_time);
        table.Bind("02:00:00:00:02:01", Ip4.Parse("10.0.0.10"), TimeSpan.FromMinutes(5), null, unknown: true);
        table.Bind("02:00:00:00:02:02", Ip4.Parse("10.0.0.11"), TimeSpan.FromMinutes(5), null, unknown: true);
        table.Bind("02:00:00:00:02:03", Ip4.Parse("10.0.0.12"), TimeSpan.FromMinutes(5), null, unknown: false);

        Assert.Equal(2, table.UnknownHeld(Subnet));
        Assert.False(table.HasRoomForUnknown(Subnet, heldBack: 2));
        Assert.True(table.HasRoomForUnknown(Subnet, heldBack: 1));
        // A released unknown lease still counts (the address is still its client's).
        table.Release("02:00:00:00:02:01", Ip4.Parse("10.0.0.10"));
        Assert.Equal(2, table.UnknownHeld(Subnet));
        _time.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(0, table.UnknownHeld(Subnet));
    }

    [Fact]
    public void HasRoomForUnknown_RestoredLeases_AreClassifiedByTheNodeSource()
    {
        var path = Path.Combine(_directory, "leases.journal");
        using (var journal = new DhcpLeaseJournal(path))
        {
            var table = new DhcpLeaseTable(_time, journal);
            table.Bind("02:00:00:00:02:01", Ip4.Parse("10.0.0.10"), TimeSpan.FromHours(1), null, unknown: true);
            table.Bind("02:00:00:00:02:02", Ip4.Parse("10.0.0.11"), TimeSpan.FromHours(1), null, unknown: false);
            table.Commit();
        }

        var reloaded = new DhcpLeaseTable(_time) { IsNode = mac => mac == "02:00:00:00:02:02" };
        reloaded.Load(path);

        Assert.Equal(1, reloaded.UnknownHeld(Subnet));
    }

    [Fact]
    public void Journal_Reload_RestoresBoundLeasesAndSkipsDamagedLines()
    {
        var path = Path.Combine(_directory, "leases.journal");
        using (var journal = new DhcpLeaseJournal(path))
        {
            var table = new DhcpLeaseTable(_time, journal);
            table.Bind("02:00:00:00:00:01", Ip4.Parse("10.0.0.10"), TimeSpan.FromHours(1), "node one\nwith newline");
            table.Bind("02:00:00:00:00:02", Ip4.Parse("10.0.0.11"), TimeSpan.FromHours(1), null);
            table.Release("02:00:00:00:00:02", Ip4.Parse("10.0.0.11"));
            Assert.True(table.Commit());
        }
        var good = File.ReadAllText(path);
        File.WriteAllText(path, "garbage line\nL1 10.0.0.12 02:00:00:00:00:03 1 99999999999 - 00000000\n" + good
            + good.Split('\n')[0][..20]);

        var reloaded = new DhcpLeaseTable(_time);
        var skipped = reloaded.Load(path);

        Assert.Equal(3, skipped);
        var one = reloaded.FindByMac("02:00:00:00:00:01")!;
        Assert.Equal(Ip4.Parse("10.0.0.10"), one.Address);
        Assert.Equal(DhcpLeaseState.Bound, one.State);
        Assert.Equal("node one\nwith newline", one.HostName);
        Assert.Equal(DhcpLeaseState.Released, reloaded.FindByMac("02:00:00:00:00:02")!.State);
        Assert.Null(reloaded.FindByAddress(Ip4.Parse("10.0.0.12")));
    }

    [Fact]
    public void Journal_Reload_KeepsTheAddressAClientMovedOffForIt()
    {
        var path = Path.Combine(_directory, "leases.journal");
        var old = Ip4.Parse("10.0.0.10");
        using (var journal = new DhcpLeaseJournal(path))
        {
            var table = new DhcpLeaseTable(_time, journal);
            table.Bind("02:00:00:00:00:01", old, TimeSpan.FromHours(1), null);
            table.Bind("02:00:00:00:00:01", Ip4.Parse("10.0.0.11"), TimeSpan.FromHours(1), null);
            Assert.True(table.Commit());
        }

        var reloaded = new DhcpLeaseTable(_time);
        Assert.Equal(0, reloaded.Load(path));

        Assert.Equal(Ip4.Parse("10.0.0.11"), reloaded.FindByMac("02:00:00:00:00:01")!.Address);
        Assert.False(reloaded.IsAvailableTo(old, "02:00:00:00:00:02"));
        // Restored leases were bound before the restart: none may be DECLINEd.
        Assert.Equal(DhcpDeclineOutcome.TooLate, reloaded.Decline("02:00:00:00:00:01", Ip4.Parse("10.0.0.11")));
    }

    [Fact]
    public void Journal_Compaction_KeepsOnlyLatestState()
    {
        var path = Path.Combine(_directory, "leases.journal");
        var subnet = new DhcpSubnet(Ip4.Parse("10.0.0.0"), Ip4.MaskFromPrefix(16), [DhcpPool.Parse("10.0.1.0-10.0.1.9")]);
        using (var journal = new DhcpLeaseJournal(path))
        {
            var table = new DhcpLeaseTable(_time, journal);
            for (var round = 0; round < 600; round++)
            {
                for (var i = 0; i < 10; i++)
                    table.Bind($"02:00:00:00:00:{i:x2}", new Ip4(subnet.Pools[0].First.Value + (uint)i), TimeSpan.FromHours(1), null);
                table.Commit();
            }
            Assert.True(journal.RecordCount < 600 * 10, $"journal still has {journal.RecordCount} records");
        }
        var reloaded = new DhcpLeaseTable(_time);
        Assert.Equal(0, reloaded.Load(path));
        Assert.Equal(10, reloaded.Count);
        Assert.True(File.ReadAllLines(path).Length < 6000);
    }
}
