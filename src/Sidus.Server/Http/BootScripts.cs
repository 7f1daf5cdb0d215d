using Sidus.Server.Access;
using Sidus.Wire.Ipxe;
using Sidus.Server.Images;

namespace Sidus.Server.Http;

/// <summary>What the server answered a machine, for the response, the log and the boot-event record.</summary>
/// <param name="RetryAfter">Set when the script asks again because the version's artifacts are being built: the
/// wait it sleeps, also sent as the Retry-After header for HTTP clients that are not iPXE.</param>
public sealed record ScriptAnswer(string Script, string? Node, string Decision, bool Refused, TimeSpan? RetryAfter = null)
{
    /// <summary>The asker is not tied to the node (no ticket): its ask is logged, never recorded as the node's boot.</summary>
    public bool NotTheNode { get; init; }
}

/// <summary>
/// Decides each machine's iPXE script from the inventory snapshot and the image store: a kernel boot for a node
/// with an image, <c>exit</c> for mode local, a menu for mode menu, and for a machine the server cannot boot
/// (unknown, no image, a refused setting) a clear message and a bounded number of asks again.
/// </summary>
/// <remarks>
/// Modes ram and shared boot the Sidus initramfs (the node agent as /init). When NBD is on, both also tell the agent
/// where the version's erofs export is (sidus.nbd=IP:PORT, the version id as export name) and how to check every block
/// of it with dm-verity (sidus.verity=ROOTHEX:SALTHEX:DATABLOCKS, see <see cref="VerityInfo"/>):
/// shared mode mounts it, ram mode copies it into RAM. The export is made before the script boots the node, so the
/// node never waits on its first NBD connection. Nothing is built on the request's thread: while the version's
/// artifacts are being made (<see cref="VersionArtifacts"/>, started by the first ask), the machine is told so and
/// asks again every <see cref="PreparingDelay"/>, up to <see cref="PreparingAttempts"/> times. <paramref name="shared"/>
/// is null when NBD is off: shared mode is then refused and ram mode boots without those two arguments.
/// <paramref name="bootSettings"/> is read for every script, so a configuration reload changes the next one.
/// </remarks>
public sealed class BootScripts(
    InventoryView inventory, ImageCatalog images, Func<BootSettings> bootSettings, VersionArtifacts artifacts, NodeAccess access, SharedExportSettings? shared = null)
{
    /// <summary>How long a machine waits before asking again while its version's artifacts are being built.</summary>
    public static readonly TimeSpan PreparingDelay = TimeSpan.FromSeconds(5);

    /// <summary>Asks while artifacts are built before the machine gives up: 120 × 5 s, ten minutes (a big image's first export).</summary>
    public const int PreparingAttempts = 120;

    /// <summary>The query parameter carrying how many times a machine has asked (bounds every retry loop).</summary>
    public const string AttemptParameter = "attempt";

    /// <summary>The query parameter a menu choice sets.</summary>
    public const string ModeParameter = "mode";

    /// <summary>URL path of a machine's script.</summary>
    public static string ScriptPath(MacAddress mac) => NodeRoutes.Script(UrlMac(mac));

    /// <summary>The MAC as it appears in URLs: lower-case hex joined by '-' (what iPXE's ${mac:hexhyp} gives).</summary>
    public static string UrlMac(MacAddress mac) => mac.ToString().Replace(':', '-');

    public static string KernelPath(ImageBootFiles files) => NodeRoutes.ImageFile(files.Version.ToString(), NodeRoutes.ImageFiles.Kernel);

    public static string InitrdPath(ImageBootFiles files) => NodeRoutes.ImageFile(files.Version.ToString(), NodeRoutes.ImageFiles.Initrd);

    /// <summary>The image's kernel as the Sidus initramfs was made for (its modules match it).</summary>
    public static string AgentKernelPath(ImageBootFiles files) => NodeRoutes.ImageFile(files.Version.ToString(), NodeRoutes.ImageFiles.AgentKernel);

    /// <summary>The Sidus initramfs (the node agent as /init) of the version.</summary>
    public static string AgentInitrdPath(ImageBootFiles files) => NodeRoutes.ImageFile(files.Version.ToString(), NodeRoutes.ImageFiles.AgentInitrd);

    /// <param name="mac">The machine, from the URL.</param>
    /// <param name="client">Its address (picks the network policy for an unknown machine).</param>
    /// <param name="server">Our address as the machine reached us, for the agent's command line.</param>
    /// <param name="mode">A menu choice, or null.</param>
    /// <param name="attempt">How many times the machine has asked in this boot (1 for the first).</param>
    public ScriptAnswer Answer(MacAddress mac, IPAddress? client, string server, BootMode? mode, int attempt)
    {
        var snapshot = inventory.Current;
        var node = snapshot.FindByMac(mac);
        EffectiveSettings settingsOf;
        if (node is not null)
        {
            settingsOf = snapshot.Resolve(node);
        }
        else if (client is not null && snapshot.ResolveUnknown(mac, client) is { } unknown)
        {
            settingsOf = unknown;
        }
        else
        {
            return AskAgain(
                mac, attempt, null,
                $"this machine ({mac}) is not in the Sidus inventory. Add it with: sidus node add NAME --mac {mac}",
                "unknown machine");
        }

        var name = settingsOf.Node;
        var target = NodeBootTarget.Resolve(images, settingsOf, mode);
        var effectiveMode = target.Mode;
        if (effectiveMode == BootMode.Install && mode is null && node is not null && snapshot.Installed(node.Name) is { } installed)
        {
            // Installed: the server stays in control (`sidus node reinstall`), the disk boots what it holds.
            return new ScriptAnswer(
                IpxeScript.Local($"{name}: installed with {installed.ImageRef}: booting from the local disk (sidus node reinstall {name} installs it again)"),
                name, $"local disk (installed {installed.ImageRef})", false);
        }

        switch (effectiveMode)
        {
            case BootMode.Local:
                return new ScriptAnswer(IpxeScript.Local($"{name}: booting from the local disk"), name, "local disk", false);
            case BootMode.Menu:
                return new ScriptAnswer(Menu(mac, name, settingsOf), name, "menu", false);
        }

        if (target.ImageSpec is not { } spec || target.Image is not { } lookup)
        {
            var fix = node is not null
                ? $"set one with sidus node set {name} --image NAME"
                : snapshot.NetworkFor(client!) is { Unknown: UnknownMachinePolicy.Boot, DefaultGroup: { } group }
                    ? $"this machine is not in the inventory and boots with group {group}, which gives it none: sidus group set {group} --image IMAGE, or add it with sidus node add NAME --mac {mac} --image IMAGE"
                    : $"this machine is not in the inventory and its network's groups give it none: adopt it with sidus node adopt {mac} NAME, then sidus node set NAME --image IMAGE";
            return AskAgain(mac, attempt, name, $"node {name} has no image: {fix}", "no image set");
        }

        if (lookup.Files is not { } files)
        {
            return AskAgain(mac, attempt, name, $"node {name}: image {spec} cannot be booted: {lookup.Problem}", "image unusable: " + lookup.Problem);
        }

        var operatorArgs = settingsOf.KernelArgs.Value ?? string.Empty;
        if (IpxeText.CheckKernelArgs(operatorArgs) is { } problem)
        {
            return AskAgain(mac, attempt, name, $"node {name}: its kernel arguments were refused ({problem})", "kernel arguments refused: " + problem);
        }

        // The boot's ticket (docs/node-access.md): for its boot files and the agent's one claim. Refused when the asking
        // address is not tied to the node (its lease or address taken by another machine, or nothing ties it), and
        // decided before any build starts: an untied request costs the server nothing.
        if (access.IssueTicket(mac, node?.Macs ?? [mac], node?.Ip, client, files.Version.ToString(), out var misplaced) is not { } ticket)
        {
            return AskAgain(mac, attempt, name, $"node {name}: no boot ticket: {misplaced}", "ticket refused: " + misplaced) with { NotTheNode = true };
        }

        // Ram, shared and install modes boot the Sidus initramfs, whose agent reads sidus.server as a URL and
        // sidus.image as the version id. Install mode mounts the version's export to run the image's own tools
        // (sfdisk, mkfs, grub-install) against the node's disks.
        var agent = target.BootsAgent;
        var needsExport = effectiveMode is BootMode.Shared or BootMode.Install;
        if (needsExport && shared is null)
        {
            return AskAgain(
                mac, attempt, name,
                $"node {name} boots in {effectiveMode.ToText()} mode, but this server does not serve NBD: enable [nbd] in sidus.toml (or drop --no-nbd), or set the node's mode to ram",
                $"{effectiveMode.ToText()} mode without NBD");
        }

        // Arguments that cannot fit the kernel's command line are refused before any build starts (the export's
        // NBD and dm-verity arguments only lengthen it, and are checked again below).
        var early = new AgentKernelArguments
        {
            Mac = mac.ToString(), Node = name, Hostname = name, Mode = effectiveMode, Image = files.Version.ToString(),
            ImageRef = $"{files.Image}@{files.Sequence.ToString(CultureInfo.InvariantCulture)}", Server = $"http://{server}", Ticket = ticket,
        }.Format();
        if (IpxeText.CheckKernelArgs(operatorArgs.Length > 0 ? early + " " + operatorArgs : early) is { } cannotFit)
        {
            return AskAgain(mac, attempt, name, $"node {name}: {cannotFit}", "kernel arguments refused: " + cannotFit);
        }

        var exported = agent && shared is not null;
        AgentBootFiles? made = null;
        ErofsExportFile? export = null;
        if (agent)
        {
            // Both builds start now (side by side) if they are not made or running; neither is waited for here.
            var building = artifacts.AgentBootAsync(files.Version);
            var exporting = exported ? artifacts.ExportAsync(files.Version) : null;
            if (building.IsFaulted)
            {
                var why = Why(building);
                return AskAgain(mac, attempt, name, $"node {name}: {why}", "no Sidus initramfs: " + why);
            }

            if (exporting is { IsFaulted: true })
            {
                var why = Why(exporting);
                return AskAgain(mac, attempt, name, $"node {name}: the erofs export of {files.Image}@{files.Sequence} (served over NBD) cannot be made: {why}", "no erofs export: " + why);
            }

            if (!building.IsCompletedSuccessfully || exporting is { IsCompletedSuccessfully: false })
            {
                var pending = string.Join(" and ", new[]
                {
                    building.IsCompletedSuccessfully ? null : "the Sidus initramfs",
                    exporting is null or { IsCompletedSuccessfully: true } ? null : "the erofs root",
                }.OfType<string>());
                return Preparing(mac, mode, attempt, name, files, pending);
            }

            made = building.Result;
            export = exporting?.Result;
        }

        var agentArgs = new AgentKernelArguments
        {
            Mac = mac.ToString(),
            Node = name,
            Hostname = name,
            Mode = effectiveMode,
            Image = files.Version.ToString(),
            ImageRef = $"{files.Image}@{files.Sequence.ToString(CultureInfo.InvariantCulture)}",
            Server = $"http://{server}",
            Nbd = export is not null ? shared!.Endpoint(server) : null,
            Verity = export?.Verity,
            Ticket = agent ? ticket : null,
        };
        var args = operatorArgs.Length > 0 ? agentArgs.Format() + " " + operatorArgs : agentArgs.Format();
        if (IpxeText.CheckKernelArgs(args) is { } tooLong)
        {
            return AskAgain(mac, attempt, name, $"node {name}: {tooLong}", "kernel arguments refused: " + tooLong);
        }

        var boot = new IpxeBoot(
            $"{name}: {files.Image}@{files.Sequence} ({files.Version.Short}), mode {effectiveMode.ToText()}",
            NodeCredentials.WithTicket(agent ? AgentKernelPath(files) : KernelPath(files), ticket),
            agent ? NodeCredentials.WithTicket(AgentInitrdPath(files), ticket) : files.Initrd is null ? null : NodeCredentials.WithTicket(InitrdPath(files), ticket),
            args);
        var what = made is not null
            ? $" kernel {made.KernelRelease}, Sidus initramfs ({made.Modules} modules)" + (export is null ? string.Empty : $", erofs root {export.Size} bytes over NBD")
            : $" kernel {files.Kernel.Path}" + (files.Initrd is null ? " (no initramfs in the image)" : $" initrd {files.Initrd.Path}");
        var settings = bootSettings();
        return new ScriptAnswer(
            IpxeScript.Boot(boot, settings.DownloadAttempts, settings.RetryDelay), name,
            $"{effectiveMode.ToText()} {files.Image}@{files.Sequence} ({files.Version.Short})" + what,
            false);
    }

    private string Menu(MacAddress mac, string name, EffectiveSettings s)
    {
        var path = ScriptPath(mac);
        var image = s.Image.Value ?? "(no image set)";
        return IpxeScript.Menu(
            $"Sidus: {name} ({mac}), image {image}",
            [
                MenuItem(BootMode.Ram, $"Boot {image} into RAM"),
                MenuItem(BootMode.Shared, $"Boot {image} with a shared root"),
                MenuItem(BootMode.Install, $"Install {image} on the local disk"),
                MenuItem(BootMode.Local, "Boot from the local disk"),
            ],
            BootMode.Local.ToText(),
            bootSettings().MenuTimeout);

        IpxeMenuItem MenuItem(BootMode mode, string text) => new(mode.ToText(), text, $"{path}?{ModeParameter}={mode.ToText()}");
    }

    /// <summary>The version's artifacts are being built: say what, wait, and ask again (the same choice, the next attempt).</summary>
    private static ScriptAnswer Preparing(MacAddress mac, BootMode? mode, int attempt, string node, ImageBootFiles files, string pending)
    {
        var what = $"{pending} of {files.Image}@{files.Sequence} ({files.Version.Short})";
        if (attempt > PreparingAttempts)
        {
            var waited = (PreparingDelay * PreparingAttempts).TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture);
            return new ScriptAnswer(
                IpxeScript.Stop($"node {node}: {what} still being prepared after {waited} minutes. Gave up; leaving iPXE.", PreparingDelay),
                node, $"preparing {what} (gave up after {PreparingAttempts} tries)", true);
        }

        var next = attempt + 1;
        var choice = mode is { } chosen ? $"{ModeParameter}={chosen.ToText()}&" : string.Empty;
        return new ScriptAnswer(
            IpxeScript.Retry(
                $"node {node}: preparing {what} (try {attempt} of {PreparingAttempts + 1})",
                $"{ScriptPath(mac)}?{choice}{AttemptParameter}={next.ToString(CultureInfo.InvariantCulture)}", PreparingDelay, replace: true),
            node, $"preparing {what} (try {attempt})", false, PreparingDelay);
    }

    /// <summary>The message of a failed build (an <see cref="ArtifactException"/>'s, worded for the operator).</summary>
    private static string Why(Task failed) => failed.Exception!.InnerException!.Message;

    private ScriptAnswer AskAgain(MacAddress mac, int attempt, string? node, string message, string decision)
    {
        var settings = bootSettings();
        if (attempt > settings.AskAgainAttempts)
        {
            return new ScriptAnswer(
                IpxeScript.Stop($"{message}. Gave up after {settings.AskAgainAttempts} tries: leaving iPXE.", settings.RetryDelay),
                node, decision + $" (gave up after {settings.AskAgainAttempts} tries)", true);
        }

        var next = attempt + 1;
        return new ScriptAnswer(
            IpxeScript.Retry(
                $"{message} (try {attempt} of {settings.AskAgainAttempts + 1})",
                $"{ScriptPath(mac)}?{AttemptParameter}={next.ToString(CultureInfo.InvariantCulture)}", settings.AskAgainDelay),
            node, decision + $" (try {attempt})", true);
    }
}
