namespace Sidus.Wire.Contracts;

/// <summary>
/// How a node boots: the server's inventory stores it, the boot script and the kernel command line (sidus.mode=)
/// carry it to the node agent. The text forms are stored in the inventory database and in cluster.yaml and sent on
/// the wire: never rename them. The numbers are kept stable too.
/// </summary>
public enum BootMode
{
    /// <summary>The image runs from RAM: booted from its export, then copied into RAM (or, with sidus.ram=sync, synced into a tmpfs root first).</summary>
    Ram = 1,

    /// <summary>Read-only root shared from the image with a writable overlay.</summary>
    Shared = 2,

    /// <summary>Partition the local disk and install the image onto it.</summary>
    Install = 3,

    /// <summary>Boot from the local disk (the iPXE script exits).</summary>
    Local = 4,

    /// <summary>Show a boot menu.</summary>
    Menu = 5,
}

/// <summary>The one spelling of each <see cref="BootMode"/>.</summary>
public static class BootModes
{
    public const string Choices = "ram | shared | install | local | menu";

    public static string ToText(this BootMode mode) => mode switch
    {
        BootMode.Ram => "ram",
        BootMode.Shared => "shared",
        BootMode.Install => "install",
        BootMode.Local => "local",
        BootMode.Menu => "menu",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown boot mode"),
    };

    /// <summary>Reads a spelling of <see cref="ToText"/>, ignoring case and surrounding blanks.</summary>
    public static bool TryParse(string? text, out BootMode mode)
    {
        BootMode? parsed = text?.Trim().ToLowerInvariant() switch
        {
            "ram" => BootMode.Ram,
            "shared" => BootMode.Shared,
            "install" => BootMode.Install,
            "local" => BootMode.Local,
            "menu" => BootMode.Menu,
            _ => null,
        };
        mode = parsed ?? default;
        return parsed is not null;
    }
}
