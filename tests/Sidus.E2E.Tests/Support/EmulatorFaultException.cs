namespace Sidus.E2E.Tests.Support;

/// <summary>
/// The emulated machine failed, not what runs on it: the guest kernel's watchdog saw the virtio network card stop
/// taking frames to send ("NETDEV WATCHDOG ... transmit queue 0 timed out"), which QEMU 7.2 under TCG does now and
/// then on a loaded host, with any traffic. Nothing the guest sends leaves after that, so the boot cannot go on; a
/// <see cref="VmFactAttribute"/> test that ends with this runs once more.
/// </summary>
public sealed class EmulatorFaultException(string message) : Exception(message)
{
    private const string Watchdog = "NETDEV WATCHDOG:";

    public static void ThrowIfReported(string serial)
    {
        var at = serial.IndexOf(Watchdog, StringComparison.Ordinal);
        if (at < 0)
        {
            return;
        }

        var end = serial.IndexOf('\n', at);
        var line = serial[at..(end < 0 ? serial.Length : end)].Trim();
        throw new EmulatorFaultException($"the VM's emulated network card stopped sending (guest kernel: \"{line}\"): a fault of the emulator, not of Sidus");
    }
}
