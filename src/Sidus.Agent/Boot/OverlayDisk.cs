namespace Sidus.Agent.Boot;

/// <summary>Where the upper layer of a persistent overlay lives on the disk, and how it came to be.</summary>
internal sealed record OverlayLayer(string Upper, string Work, string How);

/// <summary>
/// The persistent upper layer of shared mode (sidus.overlay=disk:/dev/X): an ext4 filesystem on exactly the named
/// device, formatted with the image's mke2fs only when <see cref="DiskSignature"/> finds the device blank, mounted
/// at /run/sidus/disk, with one upper/work pair per image name under sidus/NAME so that switching a node between
/// images never mixes their changes, and a new version of the same image keeps the node's changes.
/// </summary>
internal static class OverlayDisk
{
    public const string Mount = "/run/sidus/disk";
    public const string Mke2fs = "/sbin/mke2fs";
    private const string DiskPrefix = "disk:";
    private static readonly TimeSpan DeviceWait = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan FormatLimit = TimeSpan.FromMinutes(10);

    /// <summary>tmpfs (DEVICE null) or disk:/dev/NAME (DEVICE that path); false for anything else.</summary>
    public static bool ParseOverlay(string text, out string? device)
    {
        device = null;
        if (text == "tmpfs")
        {
            return true;
        }

        if (!text.StartsWith(DiskPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var path = text[DiskPrefix.Length..];
        if (!path.StartsWith("/dev/", StringComparison.Ordinal) || path.Length <= 5 || path.Contains("/..", StringComparison.Ordinal) || path.Contains("/./", StringComparison.Ordinal))
        {
            return false;
        }

        device = path;
        return true;
    }

    /// <summary>A directory name for IMAGE: letters, digits, '.', '_', '-' kept, anything else '_'.</summary>
    public static string SafeName(string image)
    {
        var chars = image.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray();
        var name = new string(chars);
        return name is "" or "." or ".." ? "_" + name : name;
    }

    public static async Task<OverlayLayer> PrepareAsync(string device, string image, EventReporter reporter)
    {
        await WaitForDeviceAsync(device);
        var content = Probe(device);
        var how = "existing ext4";
        switch (content.Kind)
        {
            case DiskContentKind.Blank:
                AgentConsole.Say($"{device} is blank: formatting it as ext4 for the persistent overlay");
                await reporter.ReportAsync(NodeEventStages.Root, $"formatting {device} (blank) as ext4 for the overlay");
                await FormatAsync(device);
                how = "formatted";
                break;
            case DiskContentKind.Ext:
                break;
            default:
                throw new UnbootableException($"{device} (sidus.overlay=disk:{device}) holds {content.Description}. Sidus formats only a blank device and " +
                                              $"never touches one with data: wipe it (for example dd if=/dev/zero of={device} bs=1M count=1) or name another device");
        }

        Directory.CreateDirectory(Mount);
        try
        {
            // noinit_itable: no background zeroing of fresh inode tables (ext4lazyinit) competing with the boot
            // for the disk; unused tables are marked as such in their group descriptors, so this is safe.
            Mounts.Mount(device, Mount, "ext4", Mounts.MS_NOSUID | Mounts.MS_NODEV, "noinit_itable");
        }
        catch (LinuxException e)
        {
            throw new UnbootableException($"mounting {device} as ext4 failed: {e.Message}");
        }

        var directory = $"{Mount}/sidus/{SafeName(image)}";
        var upper = directory + "/upper";
        var work = directory + "/work";
        var reused = Directory.Exists(upper);
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        if (reused)
        {
            AgentConsole.Say($"reusing the upper layer of image {image} on {device} (sidus/{SafeName(image)}): changes from earlier boots are kept");
            how = how == "formatted" ? how : "reused";
        }
        else
        {
            AgentConsole.Say($"new upper layer for image {image} on {device} (sidus/{SafeName(image)})");
            how = how == "formatted" ? how : "new layer";
        }

        return new OverlayLayer(upper, work, how);
    }

    private static async Task WaitForDeviceAsync(string device)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(device))
        {
            if (clock.Elapsed > DeviceWait)
            {
                var present = Directory.Exists("/sys/block") ? string.Join(' ', Directory.EnumerateDirectories("/sys/block").Select(Path.GetFileName)) : "none";
                throw new UnbootableException($"{device} (sidus.overlay=disk:{device}) does not exist after {DeviceWait.TotalSeconds:F0} s; block devices: {present}");
            }

            await Task.Delay(250);
        }
    }

    private static DiskContent Probe(string device)
    {
        using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.Read);
        var buffer = new byte[DiskSignature.ProbeLength];
        var have = 0;
        while (have < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(have), have);
            if (n == 0)
            {
                break;
            }

            have += n;
        }

        return DiskSignature.Identify(buffer.AsSpan(0, have));
    }

    private static async Task FormatAsync(string device)
    {
        if (!File.Exists(Mke2fs))
        {
            throw new UnbootableException($"{device} is blank but this initramfs has no {Mke2fs} (the image has no e2fsprogs?): format it with ext4 by hand");
        }

        // stdin is closed: should mke2fs find something after all, its "Proceed anyway?" reads end of file and stops.
        ProcessResult result;
        try
        {
            result = await Task.Run(() => ProcessRunner.Run(Mke2fs, ["-q", "-t", "ext4", "-L", "sidus-overlay", "-E", "nodiscard", device], "e2fsprogs", FormatLimit));
        }
        catch (ToolStartException e)
        {
            throw new UnbootableException($"could not start {Mke2fs}: {e.Message}");
        }
        catch (TimeoutException)
        {
            throw new UnbootableException($"mke2fs on {device} did not finish within {FormatLimit.TotalMinutes:F0} min");
        }

        var said = (result.Output + result.Errors).Trim();
        if (!result.Succeeded)
        {
            throw new UnbootableException($"mke2fs on {device} failed ({result.ExitCode}): {said}");
        }

        AgentConsole.Say($"formatted {device} as ext4{(said.Length > 0 ? ": " + said : string.Empty)}");
    }
}
