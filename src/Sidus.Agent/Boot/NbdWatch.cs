using Sidus.Agent.Network;

namespace Sidus.Agent.Boot;

/// <summary>
/// "agent nbd-watch", run by the booted system of a shared node (the unit <see cref="NbdWatchUnit"/> writes): keeps
/// the root's NBD connection alive across server restarts. It waits for the nbd family's NBD_CMD_LINK_DEAD event
/// for the device in /run/sidus/nbd (<see cref="NbdState"/>) and, as a fallback, polls /proc/net/tcp for the
/// connection itself (the nbd driver's own status does not say "dead": NBD_CMD_STATUS answers "connected" and
/// /sys/block/nbdN/pid stays set while the device waits for a reconnection). When the connection is gone it
/// negotiates the export again with backoff and hands the new socket to the kernel with NBD_CMD_RECONFIGURE; the
/// I/O that waited (up to the dead-connection timeout) then goes on. Every page of the process is locked in RAM
/// first: while the root's export is unreachable, paging in a bit of libc from that root would hang the watcher.
/// With dm-verity it also forwards the kernel's dm-verity errors to the server (<see cref="KernelLogWatch"/>).
/// </summary>
internal static class NbdWatch
{
    private const int EventBufferLength = 8192;
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(10);

    /// <summary>Sockets handed to the kernel: kept open for the life of the watcher (closing a .NET socket may shut it down).</summary>
    private static readonly List<Socket> Handed = [];

    /// <summary>Set by the ram copy just before it closes the connection itself: that death is not to be mended.</summary>
    private static volatile bool s_detaching;

    /// <summary>
    /// The same watch on a thread of the running agent: the install's tools root (sfdisk, mkfs, GRUB) is the export
    /// too, and a server restarted mid-install must not leave it unreadable. No pages are locked: the agent runs from
    /// the initramfs, which is RAM already.
    /// </summary>
    public static void StartBeside() =>
        new Thread(() => RunAsync(lockMemory: false).GetAwaiter().GetResult()) { IsBackground = true, Name = "nbd-watch" }.Start();

    public static async Task<int> RunAsync(bool lockMemory = true)
    {
        NbdState state;
        try
        {
            state = NbdState.Parse(File.ReadAllText(NbdState.DefaultPath));
        }
        catch (FileNotFoundException)
        {
            AgentConsole.Say($"nbd-watch: no {NbdState.DefaultPath}, the root is not on NBD: nothing to watch");
            return 0;
        }
        catch (InvalidDataException e)
        {
            AgentConsole.Fail("nbd-watch: " + e.Message);
            return 1;
        }

        var line = KernelCommandLine.Read();
        using var http = AgentMain.NewHttpClient();
        var reporter = new EventReporter(http) { Server = line.Server, Mac = state.Mac };
        using var events = OpenEvents();
        try
        {
            if (lockMemory)
            {
                ProcessMemory.LockCurrent();
            }
        }
        catch (LinuxException e)
        {
            AgentConsole.Fail($"nbd-watch: {e.Message}; going on without locked pages");
        }

        AgentConsole.Say($"nbd-watch: watching /dev/nbd{state.Index} ({state.Server}, export {state.Export}): " +
                         $"{(events is null ? "no link-dead events" : "link-dead events")}, TCP state every {PollInterval.TotalSeconds:F0} s");
        if (line.Verity is not null)
        {
            KernelLogWatch.Start(reporter);
        }

        StartRamCopy(line, state, reporter);
        var buffer = new byte[EventBufferLength];
        while (true)
        {
            var why = WaitForDeath(events, state, buffer);
            if (s_detaching)
            {
                // The copy thread ends the process once it has reported.
                Thread.Sleep(Timeout.Infinite);
            }

            var clock = Stopwatch.StartNew();
            AgentConsole.Fail($"nbd-watch: /dev/nbd{state.Index}: {why}; reconnecting to {state.Server}");
            await reporter.ReportAsync(NodeEventStages.Agent, $"nbd connection to {state.Server} lost ({why}); reconnecting");
            state = await ReconnectAsync(state, reporter);
            try
            {
                state.Write();
            }
            catch (IOException e)
            {
                AgentConsole.Fail($"nbd-watch: could not record the new connection in {NbdState.DefaultPath}: {e.Message}");
            }

            var detail = $"nbd reconnected to {state.Server} after {clock.Elapsed.TotalSeconds:F1} s (/dev/nbd{state.Index}, export {state.Export})";
            AgentConsole.Say("nbd-watch: " + detail);
            await reporter.ReportAsync(NodeEventStages.Agent, detail);
        }
    }

    /// <summary>Ram mode from the export: the copy into RAM runs beside the watching (which mends the connection the
    /// copy reads through); once the root is on the copy, the state file goes and the watcher ends.</summary>
    private static void StartRamCopy(AgentKernelArguments line, NbdState state, EventReporter reporter)
    {
        if (!line.RamFromExport || line.Verity is not { } verity)
        {
            return;
        }

        var copier = new Thread(() =>
        {
            if (RamCopy.Run(state, verity, reporter, () => s_detaching = true))
            {
                File.Delete(NbdState.DefaultPath);
                Environment.Exit(0);
            }
        })
        { IsBackground = true, Name = "ram-copy" };
        copier.Start();
    }

    /// <summary>A generic netlink socket in the nbd family's multicast group, or null (polling only) when that fails.</summary>
    private static NetlinkSocket? OpenEvents()
    {
        var socket = NetlinkSocket.OpenGeneric();
        try
        {
            var (_, group) = GenericNetlink.ResolveGroup(socket, NbdNetlink.FamilyName, NbdNetlink.MulticastGroup);
            if (group is { } id)
            {
                socket.JoinGroup(id);
                return socket;
            }

            AgentConsole.Fail($"nbd-watch: the nbd family has no '{NbdNetlink.MulticastGroup}' group");
        }
        catch (Exception e) when (e is LinuxException or InvalidDataException or IOException)
        {
            AgentConsole.Fail($"nbd-watch: no link-dead events ({e.Message})");
        }

        socket.Dispose();
        return null;
    }

    /// <summary>Blocks until the device's connection is dead; returns how that was seen.</summary>
    private static string WaitForDeath(NetlinkSocket? events, NbdState state, byte[] buffer)
    {
        var table = state.Server.AddressFamily == AddressFamily.InterNetworkV6 ? "/proc/net/tcp6" : "/proc/net/tcp";
        while (true)
        {
            if (!TcpTable.IsEstablished(File.ReadAllText(table), state.LocalPort, state.Server.Port))
            {
                return $"its TCP connection (local port {state.LocalPort}) is gone";
            }

            if (events is null)
            {
                Thread.Sleep(PollInterval);
                continue;
            }

            var n = events.Receive(buffer, (int)PollInterval.TotalMilliseconds);
            try
            {
                ReadOnlySpan<byte> datagram = buffer.AsSpan(0, n);
                while (NetlinkReader.TryReadMessage(datagram, out _, out _, out var payload, out var consumed))
                {
                    datagram = datagram[consumed..];
                    if (NbdNetlink.DecodeLinkDead(payload) == state.Index)
                    {
                        return "the kernel reported the link dead";
                    }
                }
            }
            catch (InvalidDataException e)
            {
                AgentConsole.Fail($"nbd-watch: malformed nbd event dropped: {e.Message}");
            }
        }
    }

    /// <summary>Negotiates the export again and hands it to the kernel; retries with backoff until it works.</summary>
    private static async Task<NbdState> ReconnectAsync(NbdState state, EventReporter reporter)
    {
        var backoff = new Backoff(1, 30);
        while (true)
        {
            string problem;
            try
            {
                var nbd = await NbdClient.ConnectAsync(state.Server, AgentSession.NbdName(state.Export), CancellationToken.None);
                if (nbd.Size != state.Size)
                {
                    nbd.Socket.Dispose();
                    problem = $"export {state.Export} is now {nbd.Size} bytes, not {state.Size}: not the export the root was built on";
                }
                else
                {
                    try
                    {
                        NbdNetlink.Reconfigure(state.Index, (int)nbd.Socket.SafeHandle.DangerousGetHandle());
                        Handed.Add(nbd.Socket);
                        return state with { LocalPort = ((System.Net.IPEndPoint)nbd.Socket.LocalEndPoint!).Port };
                    }
                    catch (LinuxException e)
                    {
                        nbd.Socket.Dispose();
                        problem = $"the kernel refused NBD_CMD_RECONFIGURE: {e.Message}";
                    }
                }
            }
            catch (Exception e) when (e is NbdRefusedException or NbdProtocolException or SocketException or IOException)
            {
                problem = e.Message;
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"nbd-watch: {state.Server}: {problem}; retrying in {wait.TotalSeconds:F0} s");
            await reporter.ReportAsync(NodeEventStages.Failed, $"nbd reconnection to {state.Server}: {problem}");
            await Task.Delay(wait);
        }
    }
}
