namespace Sidus.Nodes;

/// <summary>A <see cref="BootMode"/> as a setting: from cluster.yaml, the database and the command line.</summary>
public static class BootModeSetting
{
    /// <exception cref="InventoryException">TEXT is not a spelling of <see cref="BootModes.ToText"/>.</exception>
    public static BootMode Parse(string text) =>
        BootModes.TryParse(text, out var mode) ? mode : Throw.Invalid<BootMode>($"'{text}' is not a boot mode: use one of {BootModes.Choices}");
}
