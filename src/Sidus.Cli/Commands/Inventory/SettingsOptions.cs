using System.Collections.Immutable;

namespace Sidus.Cli.Commands.Inventory;

/// <summary>
/// The settings options nodes and groups share (--image, --mode, --kernel-args, --layout, --tag, --update-exclude)
/// and their --clear-* and --remove-* forms.
/// </summary>
public sealed class SettingsOptions
{
    private readonly Option<string?> _image = new("--image") { Description = "Image to boot: NAME, NAME@VERSION or NAME:TAG", HelpName = "IMAGE" };
    private readonly Option<string?> _mode = new("--mode") { Description = $"Boot mode: {BootModes.Choices}", HelpName = "MODE" };
    private readonly Option<string?> _args = new("--kernel-args") { Description = "Kernel command-line arguments (one line; no '${')", HelpName = "ARGS" };
    private readonly Option<string?> _layout = new("--layout")
    {
        Description = "Disk layout for mode install, stored with `sidus layout set` ('' unsets it)",
        HelpName = "NAME",
    };

    private readonly Option<string[]> _tags = new("--tag") { Description = "Set a free-form tag (repeatable)", HelpName = "KEY=VALUE" };
    private readonly Option<string[]> _excludes = new("--update-exclude")
    {
        Description = "A path `sidus node update` leaves alone (repeatable; node, groups and defaults add up)",
        HelpName = "PATH",
    };

    private readonly Option<bool> _clearImage = new("--clear-image") { Description = "Unset the image (inherit it)" };
    private readonly Option<bool> _clearMode = new("--clear-mode") { Description = "Unset the boot mode (inherit it)" };
    private readonly Option<bool> _clearArgs = new("--clear-kernel-args") { Description = "Unset the kernel arguments (inherit them)" };
    private readonly Option<bool> _clearLayout = new("--clear-layout") { Description = "Unset the disk layout (inherit it)" };
    private readonly Option<string[]> _removeTags = new("--remove-tag") { Description = "Remove a tag (repeatable)", HelpName = "KEY" };
    private readonly Option<bool> _clearTags = new("--clear-tags") { Description = "Remove every tag set here" };
    private readonly Option<string[]> _removeExcludes = new("--remove-update-exclude") { Description = "Remove an update exclude set here (repeatable)", HelpName = "PATH" };
    private readonly Option<bool> _clearExcludes = new("--clear-update-excludes") { Description = "Remove every update exclude set here" };
    private readonly bool _withClear;

    public SettingsOptions(bool withClear)
    {
        _withClear = withClear;
        _mode.AcceptOnlyFromAmong([.. Enum.GetValues<BootMode>().Select(m => m.ToText())]);
    }

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(_image);
        cmd.Options.Add(_mode);
        cmd.Options.Add(_args);
        cmd.Options.Add(_layout);
        cmd.Options.Add(_tags);
        cmd.Options.Add(_excludes);
        if (_withClear)
        {
            cmd.Options.Add(_clearImage);
            cmd.Options.Add(_clearMode);
            cmd.Options.Add(_clearArgs);
            cmd.Options.Add(_clearLayout);
            cmd.Options.Add(_removeTags);
            cmd.Options.Add(_clearTags);
            cmd.Options.Add(_removeExcludes);
            cmd.Options.Add(_clearExcludes);
        }
    }

    /// <summary>True when any settings option was given.</summary>
    public bool AnyGiven(ParseResult r) =>
        r.GetValue(_image) is not null || r.GetValue(_mode) is not null || r.GetValue(_args) is not null
        || r.GetValue(_layout) is not null || r.GetValue(_tags) is { Length: > 0 } || r.GetValue(_excludes) is { Length: > 0 }
        || (_withClear && (r.GetValue(_clearImage) || r.GetValue(_clearMode) || r.GetValue(_clearArgs) || r.GetValue(_clearLayout)
            || r.GetValue(_removeTags) is { Length: > 0 } || r.GetValue(_clearTags)
            || r.GetValue(_removeExcludes) is { Length: > 0 } || r.GetValue(_clearExcludes)));

    /// <summary>The settings after the given options: set values win, then clears; unmentioned members stay.</summary>
    public NodeSettings Apply(ParseResult r, NodeSettings s)
    {
        if (_withClear)
        {
            if (r.GetValue(_image) is not null && r.GetValue(_clearImage))
            {
                throw new InventoryException(InventoryErrorKind.Invalid, "--image and --clear-image contradict each other");
            }

            if (r.GetValue(_layout) is { Length: > 0 } && r.GetValue(_clearLayout))
            {
                throw new InventoryException(InventoryErrorKind.Invalid, "--layout and --clear-layout contradict each other");
            }

            s = s with
            {
                Layout = r.GetValue(_clearLayout) ? null : s.Layout,
                Image = r.GetValue(_clearImage) ? null : s.Image,
                Mode = r.GetValue(_clearMode) ? null : s.Mode,
                KernelArgs = r.GetValue(_clearArgs) ? null : s.KernelArgs,
                Tags = r.GetValue(_clearTags) ? s.Tags.Clear() : s.Tags.RemoveRange(r.GetValue(_removeTags) ?? []),
                UpdateExcludes = r.GetValue(_clearExcludes) ? [] : RemoveExcludes(s.UpdateExcludes, r.GetValue(_removeExcludes) ?? []),
            };
        }

        var tags = s.Tags;
        foreach (var t in r.GetValue(_tags) ?? [])
        {
            var (k, v) = Names.TagAssignment(t);
            tags = tags.SetItem(k, v);
        }

        return s with
        {
            Image = r.GetValue(_image) is { } i ? Names.ImageRef(i) : s.Image,
            Mode = r.GetValue(_mode) is { } m ? BootModeSetting.Parse(m) : s.Mode,
            KernelArgs = r.GetValue(_args) is { } a ? Names.KernelArgs(a) : s.KernelArgs,
            Layout = r.GetValue(_layout) is { } l ? (l.Length == 0 ? null : Names.Label(l, "layout")) : s.Layout,
            Tags = tags,
            UpdateExcludes = [.. s.UpdateExcludes, .. (r.GetValue(_excludes) ?? []).Select(Names.UpdateExclude)],
        };
    }

    /// <summary>EXCLUDES without each of PATHS; a path not among them is refused (a typo would otherwise look done).</summary>
    private static ImmutableArray<string> RemoveExcludes(ImmutableArray<string> excludes, string[] paths)
    {
        foreach (var path in paths)
        {
            if (!excludes.Contains(path, StringComparer.Ordinal))
            {
                throw new InventoryException(InventoryErrorKind.NotFound,
                    $"no update exclude '{path}' is set here (set here: {(excludes.IsEmpty ? "none" : string.Join(", ", excludes))}; `sidus node show` says where each comes from)");
            }

            excludes = excludes.Remove(path, StringComparer.Ordinal);
        }

        return excludes;
    }
}
