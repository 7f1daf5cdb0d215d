namespace Sidus.Server.Images;

/// <summary>
/// What a node boots: its effective settings, the mode it boots in (a menu choice applied) and, when that mode boots
/// an image and one is set, the image resolved to a version and its boot files (or why there are none). The one
/// lookup behind both the boot script and the boot files built ahead of time, so the two never disagree.
/// </summary>
public sealed record NodeBootTarget(EffectiveSettings Settings, BootMode Mode, ImageLookup? Image)
{
    /// <summary>The image as the settings name it (NAME, NAME@N, NAME@HEX or NAME:TAG), or null when none is set.</summary>
    public string? ImageSpec => Settings.Image.Value;

    /// <summary>Whether the mode boots the Sidus initramfs (node agent as /init): ram and shared.</summary>
    public bool BootsAgent => Mode is BootMode.Ram or BootMode.Shared or BootMode.Install;

    /// <param name="images">Where the image is resolved (afresh each time: a new head is used by the next boot).</param>
    /// <param name="settings">The node's effective settings (or an unknown machine's, from its network's groups).</param>
    /// <param name="menuChoice">The mode picked in the boot menu; used only when the node's mode is menu.</param>
    public static NodeBootTarget Resolve(ImageCatalog images, EffectiveSettings settings, BootMode? menuChoice = null)
    {
        var mode = menuChoice is { } chosen && settings.Mode.Value == BootMode.Menu ? chosen : settings.Mode.Value;
        var image = mode is BootMode.Local or BootMode.Menu || settings.Image.Value is not { } spec ? null : images.Lookup(spec);
        return new NodeBootTarget(settings, mode, image);
    }
}
