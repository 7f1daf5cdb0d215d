using Sidus.Agent.Boot;

namespace Sidus.Agent;

/// <summary>
/// The kernel command line parameters the agent reads:
/// sidus.server=http://HOST:PORT (required), sidus.image=VERSIONID (required), sidus.mode=ram (default ram),
/// sidus.hostname=NAME, sidus.manifest=SHA256 (pins the manifest), sidus.mac=aa:bb:.. or BOOTIF=01-aa-bb-..
/// (the interface to use; default: the first Ethernet interface with a link), sidus.rootsize=SIZE (tmpfs size,
/// default 90%). Shared mode: sidus.nbd=HOST:PORT (the NBD server), sidus.export=NAME (default: the sidus.image
/// value), sidus.overlay=tmpfs|disk:/dev/X (where the writable layer lives, default tmpfs), sidus.imageref=NAME@N
/// (the image's name: a persistent upper layer is kept per image name). Both modes: sidus.verity=ROOT:SALT:BLOCKS
/// (the export's dm-verity root hash; every block read is checked against it). Ram mode boots from the export when
/// it has sidus.nbd and sidus.verity and copies it into RAM once up; sidus.ram=sync asks for the older way instead
/// (every file fetched into tmpfs before the image's init starts).
/// </summary>
internal sealed class KernelCommandLine
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static KernelCommandLine Parse(string text)
    {
        var line = new KernelCommandLine();
        foreach (var word in text.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=', StringComparison.Ordinal);
            line._values[eq < 0 ? word : word[..eq]] = eq < 0 ? string.Empty : word[(eq + 1)..];
        }

        if (line.Verity is { } verity)
        {
            line.VerityParameters = VerityParameters.Parse(verity, out var why);
            line.VerityError = why;
        }

        return line;
    }

    public static KernelCommandLine Read() => Parse(File.ReadAllText("/proc/cmdline"));

    public string? this[string key] => _values.GetValueOrDefault(key);

    public string? Server => this["sidus.server"]?.TrimEnd('/');
    public string? Image => this["sidus.image"];
    public string Mode => this["sidus.mode"] ?? "ram";
    public string? Hostname => this["sidus.hostname"];
    public string? ManifestHash => this["sidus.manifest"];
    public string RootSize => this["sidus.rootsize"] ?? "90%";
    public string? Nbd => this["sidus.nbd"];
    public string? Export => this["sidus.export"] ?? Image;
    public string Overlay => this["sidus.overlay"] ?? "tmpfs";
    public string? Verity => this["sidus.verity"];

    /// <summary>sidus.verity, parsed once here for every user (the boot's check, the root's table, the watcher's
    /// copy): null when absent or malformed (<see cref="VerityError"/> then says why).</summary>
    public VerityParameters? VerityParameters { get; private set; }

    /// <summary>Why sidus.verity is malformed, or null (absent or well formed).</summary>
    public string? VerityError { get; private set; }

    /// <summary>Ram mode from the export (boot like shared mode, copy into RAM once up) rather than the file sync.</summary>
    public bool RamFromExport => Mode == "ram" && Nbd is not null && Verity is not null && this["sidus.ram"] != "sync";

    /// <summary>The image's name from sidus.imageref=NAME@N, else null.</summary>
    public string? ImageName => this["sidus.imageref"] is { Length: > 0 } reference
        ? reference.Split('@')[0] is { Length: > 0 } name ? name : null
        : null;

    /// <summary>The MAC of the boot interface, lower case with colons, from sidus.mac or pxelinux/iPXE BOOTIF.</summary>
    public string? BootMac
    {
        get
        {
            if (this["sidus.mac"] is { } mac)
            {
                return mac.ToLowerInvariant().Replace('-', ':');
            }

            return this["BOOTIF"] is { Length: > 3 } bootif ? bootif[3..].ToLowerInvariant().Replace('-', ':') : null;
        }
    }
}
