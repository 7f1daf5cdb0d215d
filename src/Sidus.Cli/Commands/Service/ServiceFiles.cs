using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands.Service;

/// <summary>What happened to one file.</summary>
public enum ServiceFileAction
{
    Written,
    Replaced,
    Unchanged,
    Kept,
    Removed,
    Absent,
}

/// <summary>One file `sidus service` wrote or removed.</summary>
public sealed record ServiceFile(string Path, ServiceFileAction Action);

/// <summary>
/// The systemd unit and the example configuration, each written once (as files in this folder, embedded in the
/// binary), and where they go: the unit in /etc/systemd/system (an administrator's unit; a package puts
/// <c>sidus service unit</c>'s text in /lib/systemd/system), the configuration in /etc/sidus.
/// </summary>
public static class ServiceFiles
{
    public const string UnitName = "sidus.service";

    /// <summary>Where an administrator's units live (a package's go to /lib/systemd/system).</summary>
    public const string UnitDirectory = "/etc/systemd/system";

    /// <summary>The link `systemctl enable` makes; while it exists the unit is in use.</summary>
    public const string EnabledLink = "/etc/systemd/system/multi-user.target.wants/sidus.service";

    /// <summary>Where the unit starts sidus unless told otherwise (a package installs it there).</summary>
    public const string DefaultBinary = "/usr/bin/sidus";

    private const string ExecStart = "ExecStart=" + DefaultBinary + " ";

    /// <summary>The unit, starting <paramref name="binary"/>.</summary>
    public static string Unit(string binary)
    {
        CheckBinary(binary);
        var text = EmbeddedText.Read(UnitName);
        return text.Contains(ExecStart, StringComparison.Ordinal)
            ? text.Replace(ExecStart, "ExecStart=" + binary + " ", StringComparison.Ordinal)
            : throw new InvalidOperationException("the embedded unit has no " + ExecStart);
    }

    /// <summary>The example sidus.toml: every setting with its default, commented out.</summary>
    public static string ExampleConfig() => EmbeddedText.Read("sidus.toml");

    /// <summary>
    /// Writes the unit (replacing an older one) and the example configuration if there is none, under
    /// <paramref name="root"/> ("/" for this machine).
    /// </summary>
    public static (ServiceFile Unit, ServiceFile Config) Install(string root, string binary)
    {
        var unitPath = Under(root, UnitDirectory, UnitName);
        var configPath = Under(root, ServeConfigFile.SystemPath);
        var unit = Unit(binary);
        ServiceFileAction unitAction;
        if (!File.Exists(unitPath))
        {
            unitAction = ServiceFileAction.Written;
        }
        else if (File.ReadAllText(unitPath) == unit)
        {
            unitAction = ServiceFileAction.Unchanged;
        }
        else
        {
            unitAction = ServiceFileAction.Replaced;
        }

        if (unitAction != ServiceFileAction.Unchanged)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(unitPath)!);
            AtomicFile.WriteText(unitPath, unit);
        }

        var configAction = ServiceFileAction.Kept;
        if (!File.Exists(configPath))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(configPath)!);
            AtomicFile.WriteText(configPath, ExampleConfig());
            configAction = ServiceFileAction.Written;
        }

        return (new ServiceFile(unitPath, unitAction), new ServiceFile(configPath, configAction));
    }

    /// <summary>
    /// Removes the unit, and the configuration when it is still the unedited example (an edited one is kept). Refused
    /// while the service is enabled: `systemctl disable --now sidus` first.
    /// </summary>
    public static (ServiceFile Unit, ServiceFile Config) Uninstall(string root)
    {
        var link = Under(root, EnabledLink);
        if (File.Exists(link) || new FileInfo(link).LinkTarget is not null)
        {
            throw new InvalidOperationException($"sidus is still enabled ({link}): run `systemctl disable --now sidus` first");
        }

        var unitPath = Under(root, UnitDirectory, UnitName);
        var unit = new ServiceFile(unitPath, File.Exists(unitPath) ? ServiceFileAction.Removed : ServiceFileAction.Absent);
        File.Delete(unitPath);

        var configPath = Under(root, ServeConfigFile.SystemPath);
        ServiceFile config;
        if (!File.Exists(configPath))
        {
            config = new ServiceFile(configPath, ServiceFileAction.Absent);
        }
        else if (File.ReadAllText(configPath) == ExampleConfig())
        {
            File.Delete(configPath);
            config = new ServiceFile(configPath, ServiceFileAction.Removed);
        }
        else
        {
            config = new ServiceFile(configPath, ServiceFileAction.Kept);
        }

        return (unit, config);
    }

    /// <summary>
    /// The binary is written into ExecStart as it is: an absolute path systemd reads literally (no spaces, quotes,
    /// backslashes or '%' specifiers).
    /// </summary>
    public static void CheckBinary(string binary)
    {
        ArgumentNullException.ThrowIfNull(binary);
        if (!binary.StartsWith('/') || binary.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '\'' or '\\' or '%' or '$' or ';'))
        {
            throw new ArgumentException($"--bin '{binary}' must be an absolute path without spaces, quotes, '\\', '%', '$' or ';'");
        }
    }

    private static string Under(string root, params string[] parts) =>
        Path.Join([Path.GetFullPath(root), .. parts.Select(p => p.TrimStart('/'))]);
}
