namespace Sidus.Wire.Ipxe;

/// <summary>A kernel boot: URLs of the kernel and initramfs, and the kernel command line.</summary>
/// <param name="Title">What the node prints while it boots (sanitised before use).</param>
/// <param name="KernelUrl">Absolute URL or absolute path of the kernel; iPXE resolves a path against the script's URL.</param>
/// <param name="InitrdUrl">The initramfs, or null to boot without one.</param>
/// <param name="KernelArgs">The command line after <c>initrd=initrd</c>; checked with <see cref="IpxeText.CheckKernelArgs"/>.</param>
public sealed record IpxeBoot(string Title, string KernelUrl, string? InitrdUrl, string KernelArgs);

/// <summary>One entry of a boot menu: the key the script jumps on, what is shown, and the script URL it chains to.</summary>
public sealed record IpxeMenuItem(string Key, string Label, string ScriptUrl);

/// <summary>
/// Renders the iPXE scripts Sidus serves. Every loop is bounded: downloads are tried a fixed number of times,
/// scripts that ask the server again carry the attempt number in their URL so the server decides when to stop, and
/// every failure ends in a clear message and <c>exit</c> (the firmware then tries its next boot device).
/// </summary>
public static class IpxeScript
{
    public const string Header = "#!ipxe";

    /// <summary>The name the initramfs is loaded under; EFI-stub kernels find it through <c>initrd=</c> on the command line.</summary>
    public const string InitrdName = "initrd";

    /// <summary>The iPXE setting holding the booting interface's MAC, hyphenated (no colons in the URL).</summary>
    public const string MacExpansion = "${netX/mac:hexhyp}";

    /// <summary>
    /// The kernel, then the initramfs, each tried <paramref name="attempts"/> times with <paramref name="delay"/>
    /// between tries, then <c>boot</c>; on failure a message and <c>exit</c>.
    /// </summary>
    public static string Boot(IpxeBoot boot, int attempts, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(boot);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        if (IpxeText.CheckKernelArgs(boot.KernelArgs) is { } problem)
        {
            throw new ArgumentException(problem, nameof(boot));
        }

        RequireUrl(boot.KernelUrl);
        if (boot.InitrdUrl is not null)
        {
            RequireUrl(boot.InitrdUrl);
        }

        var title = IpxeText.Message(boot.Title);
        var sleep = Seconds(delay);
        var s = new StringBuilder();
        s.AppendLine(Header);
        s.Append("echo Sidus: ").AppendLine(title);
        var commandLine = boot.InitrdUrl is null ? boot.KernelArgs : $"initrd={InitrdName} {boot.KernelArgs}".TrimEnd();
        Attempts(s, "kernel", $"kernel {boot.KernelUrl} {commandLine}".TrimEnd(), boot.InitrdUrl is null ? "boot" : "initrd", attempts, sleep);
        if (boot.InitrdUrl is not null)
        {
            s.AppendLine(":initrd");
            Attempts(s, "initramfs", $"initrd --name {InitrdName} {boot.InitrdUrl}", "boot", attempts, sleep);
        }

        s.AppendLine(":boot");
        s.AppendLine("boot ||");
        s.AppendLine(":failed");
        s.Append("echo Sidus: ").Append(title).AppendLine(" did not boot; leaving iPXE so the next boot device is tried");
        s.Append("sleep ").AppendLine(sleep);
        s.AppendLine("exit 1");
        return s.ToString();
    }

    /// <summary>
    /// Boot from the local disk: leave iPXE so the firmware goes on to the next boot device. With a failure status:
    /// UEFI firmware (OVMF's BdsDxe, and many vendors') takes a boot option that returns success as done and shows
    /// its boot menu instead of trying the disk; BIOS ignores the status.
    /// </summary>
    public static string Local(string message)
    {
        var s = new StringBuilder();
        s.AppendLine(Header);
        s.Append("echo Sidus: ").AppendLine(IpxeText.Message(message));
        s.AppendLine("exit 1");
        return s.ToString();
    }

    /// <summary>
    /// Prints <paramref name="message"/>, waits, and asks the server again at <paramref name="retryUrl"/> (which
    /// carries the next attempt number); if that fetch fails, leaves iPXE. With <paramref name="replace"/> the next
    /// script replaces this one (<c>chain --replace --autofree</c>) instead of running inside it, so a long wait of many
    /// asks does not nest as many scripts.
    /// </summary>
    public static string Retry(string message, string retryUrl, TimeSpan delay, bool replace = false)
    {
        RequireUrl(retryUrl);
        var sleep = Seconds(delay);
        var s = new StringBuilder();
        s.AppendLine(Header);
        s.Append("echo Sidus: ").AppendLine(IpxeText.Message(message));
        s.Append("echo Sidus: asking the server again in ").Append(sleep).AppendLine(" s");
        s.Append("sleep ").AppendLine(sleep);
        s.Append(replace ? "chain --replace --autofree " : "chain ").Append(retryUrl).AppendLine(" ||");
        s.AppendLine("echo Sidus: the boot server could not be reached; leaving iPXE");
        s.AppendLine("exit 1");
        return s.ToString();
    }

    /// <summary>Prints <paramref name="message"/> and leaves iPXE: the server has nothing to boot.</summary>
    public static string Stop(string message, TimeSpan pause)
    {
        var s = new StringBuilder();
        s.AppendLine(Header);
        s.Append("echo Sidus: ").AppendLine(IpxeText.Message(message));
        s.Append("sleep ").AppendLine(Seconds(pause));
        s.AppendLine("exit 1");
        return s.ToString();
    }

    /// <summary>
    /// A menu; the chosen item chains to its script. Without a choice within <paramref name="timeout"/> the
    /// default is taken; if a chain fails the script leaves iPXE instead of showing the menu again.
    /// </summary>
    public static string Menu(string title, IReadOnlyList<IpxeMenuItem> items, string defaultKey, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfZero(items.Count);
        var s = new StringBuilder();
        s.AppendLine(Header);
        s.Append("menu ").AppendLine(IpxeText.Message(title));
        foreach (var item in items)
        {
            RequireKey(item.Key);
            s.Append("item ").Append(item.Key).Append(' ').AppendLine(IpxeText.Message(item.Label));
        }

        RequireKey(defaultKey);
        s.Append("choose --timeout ").Append(((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))
            .Append(" --default ").Append(defaultKey).AppendLine(" target || goto failed");
        s.AppendLine("goto item-${target}");
        foreach (var item in items)
        {
            RequireUrl(item.ScriptUrl);
            s.Append(":item-").AppendLine(item.Key);
            s.Append("chain ").Append(item.ScriptUrl).AppendLine(" || goto failed");
        }

        s.AppendLine(":failed");
        s.AppendLine("echo Sidus: no boot choice could be started; leaving iPXE");
        s.AppendLine("exit 1");
        return s.ToString();
    }

    /// <summary>The entry script a DHCP server can hand to any iPXE: it chains to this machine's own script.</summary>
    public static string Chain(string scriptPathPrefix)
    {
        RequireUrl(scriptPathPrefix);
        var s = new StringBuilder();
        s.AppendLine(Header);
        s.Append("chain ").Append(scriptPathPrefix).Append(MacExpansion).AppendLine(".ipxe ||");
        s.AppendLine("echo Sidus: this machine's boot script could not be fetched; leaving iPXE");
        s.AppendLine("exit 1");
        return s.ToString();
    }

    private static void Attempts(StringBuilder s, string what, string command, string next, int attempts, string sleep)
    {
        for (var i = 1; i <= attempts; i++)
        {
            s.Append(command).Append(" && goto ").Append(next).AppendLine(" ||");
            s.Append("echo Sidus: ").Append(what).Append(" download failed (attempt ")
                .Append(i.ToString(CultureInfo.InvariantCulture)).Append(" of ").Append(attempts.ToString(CultureInfo.InvariantCulture)).AppendLine(")");
            if (i < attempts)
            {
                s.Append("sleep ").AppendLine(sleep);
            }
        }

        s.AppendLine("goto failed");
    }

    private static string Seconds(TimeSpan delay) => Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static void RequireUrl(string url)
    {
        if (!IpxeText.IsSafeUrl(url))
        {
            throw new ArgumentException($"'{url}' is not a URL Sidus generates", nameof(url));
        }
    }

    private static void RequireKey(string key)
    {
        if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new ArgumentException($"'{key}' is not a menu key", nameof(key));
        }
    }
}
