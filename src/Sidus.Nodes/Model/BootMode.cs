namespace Sidus.Nodes;

/// <summary>How a node boots. The text forms are stored in the database and in cluster.yaml: never rename them.</summary>
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

    public static BootMode Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "ram" => BootMode.Ram,
        "shared" => BootMode.Shared,
        "install" => BootMode.Install,
        "local" => BootMode.Local,
        "menu" => BootMode.Menu,
        _ => Throw.Invalid<BootMode>($"'{text}' is not a boot mode: use one of {Choices}"),
    };
}
