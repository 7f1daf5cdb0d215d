namespace Sidus.Wire.Contracts;

/// <summary>
/// The node agent's part of the kernel command line: the server writes it into the boot script with
/// <see cref="Format"/>, the agent reads /proc/cmdline with <see cref="Parse"/>. Words that are not ours (console=,
/// the operator's arguments) are ignored; when a word is repeated the last one wins, as in the kernel.
/// </summary>
/// <remarks>
/// sidus.server=http://HOST:PORT and sidus.image=VERSIONID are required by the agent; sidus.mode defaults to ram;
/// sidus.mac=aa:bb:.. or BOOTIF=01-aa-bb-.. names the boot interface (default: the first Ethernet interface with a
/// link); sidus.rootsize is the tmpfs size (default 90%); sidus.manifest pins the manifest's hash. Shared mode:
/// sidus.nbd=HOST:PORT (the NBD server), sidus.export (default: the image's version id), sidus.overlay=tmpfs|disk:/dev/X
/// (the writable layer, default tmpfs), sidus.imageref=NAME@N (a persistent upper layer is kept per image name). Both
/// modes: sidus.verity=ROOT:SALT:BLOCKS (<see cref="VerityInfo"/>). Ram mode boots from the export when it has
/// sidus.nbd and sidus.verity and copies it into RAM once up; sidus.ram=sync asks for the older file sync instead. sidus.ticket=TICKET is the boot's one-use credential
/// (<see cref="NodeCredentials"/>).
/// </remarks>
public sealed record AgentKernelArguments
{
    /// <summary>The argument names, each written once.</summary>
    public static class Names
    {
        public const string BootInterface = "BOOTIF";
        public const string Mac = "sidus.mac";
        public const string Node = "sidus.node";
        public const string Hostname = "sidus.hostname";
        public const string Mode = "sidus.mode";
        public const string Image = "sidus.image";
        public const string ImageRef = "sidus.imageref";
        public const string Server = "sidus.server";
        public const string Manifest = "sidus.manifest";
        public const string RootSize = "sidus.rootsize";
        public const string Nbd = "sidus.nbd";
        public const string Export = "sidus.export";
        public const string Overlay = "sidus.overlay";
        public const string Verity = "sidus.verity";
        public const string Ram = "sidus.ram";
        public const string Ticket = "sidus.ticket";
    }

    public const string DefaultRootSize = "90%";
    public const string DefaultOverlay = "tmpfs";

    /// <summary>The value of sidus.ram that asks for the file sync.</summary>
    public const string RamSyncValue = "sync";

    /// <summary>BOOTIF's hardware type prefix: 01 is Ethernet (pxelinux's and iPXE's spelling).</summary>
    private const string BootInterfacePrefix = "01-";

    /// <summary>The boot interface's MAC, lower case with colons.</summary>
    public string? Mac { get; init; }

    /// <summary>The node's name in the inventory.</summary>
    public string? Node { get; init; }

    public string? Hostname { get; init; }

    /// <summary>The mode, or null when absent (the agent then boots in ram mode: <see cref="ModeOrDefault"/>).</summary>
    public BootMode? Mode { get; init; }

    /// <summary>The version id to boot.</summary>
    public string? Image { get; init; }

    /// <summary>NAME@SEQUENCE of the image the version belongs to.</summary>
    public string? ImageRef { get; init; }

    /// <summary>The server's base URL, without a trailing slash.</summary>
    public string? Server { get; init; }

    /// <summary>The manifest's hash, when pinned.</summary>
    public string? Manifest { get; init; }

    /// <summary>The tmpfs size (a mount option value such as 90% or 2G).</summary>
    public string? RootSize { get; init; }

    /// <summary>HOST:PORT of the NBD server holding the export.</summary>
    public string? Nbd { get; init; }

    public string? Export { get; init; }

    /// <summary>tmpfs or disk:/dev/NAME.</summary>
    public string? Overlay { get; init; }

    public VerityInfo? Verity { get; init; }

    /// <summary>sidus.ram=sync: ram mode lays the files into tmpfs before the image's init starts.</summary>
    public bool RamSync { get; init; }

    /// <summary>The boot's ticket (<see cref="NodeCredentials"/>): the agent claims a session with it once.</summary>
    public string? Ticket { get; init; }

    /// <summary>Why the line cannot be used as it is (its first malformed sidus.* value), or null. Never formatted.</summary>
    public string? Problem { get; init; }

    public BootMode ModeOrDefault => Mode ?? BootMode.Ram;

    public string RootSizeOrDefault => RootSize ?? DefaultRootSize;

    public string OverlayOrDefault => Overlay ?? DefaultOverlay;

    /// <summary>The NBD export name: sidus.export, else the version id.</summary>
    public string? ExportOrImage => Export ?? Image;

    /// <summary>Ram mode from the export (boot like shared mode, copy into RAM once up) rather than the file sync.</summary>
    public bool RamFromExport => ModeOrDefault == BootMode.Ram && Nbd is not null && Verity is not null && !RamSync;

    /// <summary>The image's name from sidus.imageref=NAME@N, else null.</summary>
    public string? ImageName => ImageRef is { Length: > 0 } reference && reference.Split('@')[0] is { Length: > 0 } name ? name : null;

    /// <summary>The arguments as one line of space-separated words, in a fixed order; absent values are left out.</summary>
    /// <exception cref="ArgumentException">A value is empty or holds a blank, which would break the line apart.</exception>
    public string Format()
    {
        var line = new StringBuilder();
        void Add(string name, string? value)
        {
            if (value is null)
            {
                return;
            }

            if (value.Length == 0 || value.Any(char.IsWhiteSpace))
            {
                throw new ArgumentException($"{name}='{value}': a kernel argument's value is one word", nameof(value));
            }

            line.Append(line.Length > 0 ? " " : string.Empty).Append(name).Append('=').Append(value);
        }

        Add(Names.BootInterface, Mac is null ? null : BootInterfacePrefix + Mac.Replace(':', '-'));
        Add(Names.Node, Node);
        Add(Names.Hostname, Hostname);
        Add(Names.Mode, Mode?.ToText());
        Add(Names.Image, Image);
        Add(Names.ImageRef, ImageRef);
        Add(Names.Server, Server);
        Add(Names.Manifest, Manifest);
        Add(Names.RootSize, RootSize);
        Add(Names.Nbd, Nbd);
        Add(Names.Export, Export);
        Add(Names.Overlay, Overlay);
        Add(Names.Verity, Verity?.KernelArgument);
        Add(Names.Ram, RamSync ? RamSyncValue : null);
        Add(Names.Ticket, Ticket);
        return line.ToString();
    }

    /// <summary>
    /// Reads a kernel command line. Never throws on its content: a malformed value is left out and
    /// <see cref="Problem"/> says which and why.
    /// </summary>
    public static AgentKernelArguments Parse(string cmdline)
    {
        ArgumentNullException.ThrowIfNull(cmdline);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var word in cmdline.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=', StringComparison.Ordinal);
            values[eq < 0 ? word : word[..eq]] = eq < 0 ? string.Empty : word[(eq + 1)..];
        }

        string? Get(string name) => values.GetValueOrDefault(name);
        string? problem = null;
        BootMode? mode = null;
        if (Get(Names.Mode) is { } modeText)
        {
            if (BootModes.TryParse(modeText, out var parsed))
            {
                mode = parsed;
            }
            else
            {
                problem = $"{Names.Mode}={modeText} is not a boot mode ({BootModes.Choices})";
            }
        }

        VerityInfo? verity = null;
        if (Get(Names.Verity) is { } verityText && !VerityInfo.TryParse(verityText, out verity, out _))
        {
            problem ??= $"{Names.Verity}={verityText} is not ROOTHASH:SALT:DATABLOCKS (64 hex digits, hex, a block count)";
        }

        return new AgentKernelArguments
        {
            Mac = Get(Names.Mac) is { } mac ? NormalMac(mac)
                : Get(Names.BootInterface) is { Length: > 3 } bootif ? NormalMac(bootif[BootInterfacePrefix.Length..]) : null,
            Node = Get(Names.Node),
            Hostname = Get(Names.Hostname),
            Mode = mode,
            Image = Get(Names.Image),
            ImageRef = Get(Names.ImageRef),
            Server = Get(Names.Server)?.TrimEnd('/'),
            Manifest = Get(Names.Manifest),
            RootSize = Get(Names.RootSize),
            Nbd = Get(Names.Nbd),
            Export = Get(Names.Export),
            Overlay = Get(Names.Overlay),
            Verity = verity,
            RamSync = Get(Names.Ram) == RamSyncValue,
            Ticket = Get(Names.Ticket),
            Problem = problem,
        };
    }

    private static string NormalMac(string text) => text.ToLowerInvariant().Replace('-', ':');
}
