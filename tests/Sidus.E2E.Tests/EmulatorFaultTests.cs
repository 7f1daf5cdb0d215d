using Sidus.E2E.Tests.Support;

namespace Sidus.E2E.Tests;

/// <summary>
/// The one failure a VM test is run again for: the guest kernel saying its emulated network card stopped sending.
/// A QEMU fault (seen once in CI: the node's frames stopped leaving mid-install, 12 minutes lost), not Sidus's.
/// </summary>
public sealed class EmulatorFaultTests : IDisposable
{
    private static int _attempts;
    private readonly string _log = Path.GetTempFileName();

    public void Dispose() => File.Delete(_log);

    [Fact]
    public void SerialConsole_ReadsTheTextWithoutEscapes_AndStopsAtTheNicWatchdog()
    {
        File.WriteAllText(_log, "\u001b[0;32m OK \u001b[0m Reached target\n[   12.5] sidus-agent: writing\n");
        Assert.Equal(" OK  Reached target\n[   12.5] sidus-agent: writing\n", SerialConsole.Read(_log));

        File.AppendAllText(_log, "[  391.2] virtio_net virtio0 eth0: NETDEV WATCHDOG: CPU: 0: transmit queue 0 timed out 5120 ms\n[  391.3] more\n");
        var fault = Assert.Throws<EmulatorFaultException>(() => SerialConsole.Read(_log));
        Assert.Contains("\"NETDEV WATCHDOG: CPU: 0: transmit queue 0 timed out 5120 ms\"", fault.Message, StringComparison.Ordinal);
    }

    [VmFact]
    public void VmFact_FailedByTheEmulator_RunsOnceMore()
    {
        if (Interlocked.Increment(ref _attempts) == 1)
        {
            throw new EmulatorFaultException("the first attempt, failed on purpose");
        }

        Assert.Equal(2, _attempts);
    }
}
