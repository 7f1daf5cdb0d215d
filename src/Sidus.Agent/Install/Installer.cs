using Sidus.Agent.Boot;
using Sidus.Agent.Update;
using Sidus.Agent.Modules;

namespace Sidus.Agent.Install;

/// <summary>
/// Mode install (docs/installed-nodes.md): the image's own tools from its export, the node's disks found in sysfs,
/// the plan from the server (its layout matched to them, what is preserved checked), then partitions, filesystems,
/// the version written with the sync engine (every file checked by its hash), fstab by UUID, the node's key and
/// overrides, GRUB (BIOS, UEFI's removable path, never the firmware's boot order), the report, and a reboot into the
/// disk. Nothing is written to a disk before the plan and the image's tools are known good; a preserved partition
/// or filesystem is never written at all.
/// </summary>
internal static class Installer
{
    public const string Tools = "/run/sidus/tools";
    public const string Target = "/run/sidus/target";

    /// <summary>Per layout fstype: the tool that makes it and the Debian package that has the tool.</summary>
    private static readonly Dictionary<string, (string Tool, string Package)> Makers = new(StringComparer.Ordinal)
    {
        ["ext4"] = ("mkfs.ext4", "e2fsprogs"),
        ["xfs"] = ("mkfs.xfs", "xfsprogs"),
        ["btrfs"] = ("mkfs.btrfs", "btrfs-progs"),
        ["vfat"] = ("mkfs.vfat", "dosfstools"),
        ["swap"] = ("mkswap", "util-linux"),
    };

    private static readonly Dictionary<string, (string Gpt, string Msdos)> PartitionTypes = new(StringComparer.Ordinal)
    {
        [InstallPlan.Roles.Linux] = ("0FC63DAF-8483-4772-8E79-3D69D8477DE4", "83"),
        [InstallPlan.Roles.Esp] = ("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "ef"),
        [InstallPlan.Roles.BiosGrub] = ("21686148-6449-6E6F-744E-656564454649", "83"),
        [InstallPlan.Roles.Swap] = ("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "82"),
        [InstallPlan.Roles.Raid] = ("A19D880F-05FC-4D3B-A006-743F0F84911E", "fd"),
        [InstallPlan.Roles.Lvm] = ("E6D6D379-F507-44C2-A23C-238F2A3DF928", "8e"),
    };

    private const string BiosModules = "/usr/lib/grub/i386-pc";
    private const string EfiModules = "/usr/lib/grub/x86_64-efi";
    private const string EfiMount = "/boot/efi";

    public static async Task<string> RunAsync(AgentKernelArguments line, HttpClient http, EventReporter reporter, ModuleLoader modules, string release)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(Tools);
        await SharedRoot.AssembleAsync(line, modules, reporter, Tools);
        Boot.NbdWatch.StartBeside();
        var tools = new ToolRoot(Tools);
        tools.BindKernelTrees();
        var fromImage = new ModuleLoader(release, Tools);

        var firmware = Directory.Exists("/sys/firmware/efi") ? InstallPlan.Uefi : InstallPlan.Bios;
        var disks = DiskScan.Find();
        await StepAsync(reporter, $"install: {firmware} firmware, disks: " +
            (disks.Count == 0 ? "none" : string.Join("; ", disks.Select(d => $"{d.Name} {d.Bytes / 1073741824.0:F1} GiB {d.Table}" + (d.Serial is null ? string.Empty : $" serial {d.Serial}")))));
        var plan = await PlanAsync(http, reporter, firmware, disks);
        await StepAsync(reporter, $"install: plan for {plan.ImageRef}: " + string.Join("; ", plan.Partitions.Select(p =>
            $"{p.Id} {p.Size / 1048576} MiB on {plan.Disks.First(d => d.Id == p.Disk).Device}" + (p.Preserve ? " (preserved)" : string.Empty))));
        CheckImage(tools, plan);
        VolumeBuilder.CheckNamesFree(tools, plan);

        foreach (var disk in plan.Disks)
        {
            Partition(tools, plan, disk);
        }

        var devices = await VolumesAsync(plan);
        foreach (var p in plan.Partitions.Where(p => !p.Preserve))
        {
            // What an earlier install left at the same offsets (an md superblock, an LVM label) would be found again.
            tools.Must("wipefs", ["--all", "--quiet", devices[p.Id]], "util-linux");
        }

        VolumeBuilder.Build(tools, plan, devices, fromImage, line.Hostname);
        Format(tools, plan, devices, reporter);
        // The filesystems' modules from the image (the initramfs has ext4 only); vfat needs its code pages too.
        foreach (var module in plan.Formats.Select(f => f.FsType).Distinct().SelectMany(t => t switch
        {
            "vfat" => ["vfat", "nls_cp437", "nls_ascii", "nls_utf8"],
            "xfs" or "btrfs" => [t],
            _ => Array.Empty<string>(),
        }))
        {
            fromImage.LoadByName(module);
        }

        // A mount point the image has (a separate /boot) is mounted before the version is written, so its files land
        // there; one it lacks (/boot/efi without grub-efi's postinst, /scratch) after: the sync makes the target
        // equal to the image and never deletes across a filesystem.
        var before = plan.Mounts.Where(m => m.Path == "/" || Directory.Exists(Tools + m.Path)).ToList();
        var mounted = MountTarget(plan, devices, before);
        try
        {
            await StepAsync(reporter, $"install: writing {plan.ImageRef} to {string.Join(", ", mounted)}");
            var written = await WriteVersionAsync(reporter, plan);
            mounted.AddRange(MountTarget(plan, devices, plan.Mounts.Except(before).ToList()));
            await StepAsync(reporter, $"install: wrote {written.Created} files and links, {written.BytesWritten / 1048576.0:F1} MiB " +
                $"({written.BytesReceived / 1048576.0:F1} MiB received) in {written.Seconds:F1} s, every file checked by its SHA-256");
            foreach (var mount in plan.Mounts.Where(m => m.Path != "/"))
            {
                // Preserved filesystems are never mounted: their mount points are made, empty, in the new root.
                Directory.CreateDirectory(Target + mount.Path);
            }

            var uuids = Uuids(tools, plan, devices);
            WriteFstab(plan, devices, uuids);
            if (plan.Raids.Count > 0)
            {
                Directory.CreateDirectory(Target + "/etc/mdadm");
                File.WriteAllText(Target + "/etc/mdadm/mdadm.conf", VolumeBuilder.MdadmConf(tools, plan));
            }

            VolumeBuilder.CopyLvmBackups(Tools, Target, plan);

            await WriteNodeFilesAsync(http, reporter, line, plan);
            await Overrides.ApplyAsync(Target, line, http, reporter);
            InstallBootloader(plan, devices, uuids, reporter);
            await SettleAsync(reporter, plan);
        }
        finally
        {
            Unmount(mounted);
            VolumeBuilder.Stop(tools, plan);
            tools.Unbind();
        }

        await ReportDoneAsync(http, reporter, plan);
        return $"installed {plan.ImageRef} in {clock.Elapsed.TotalSeconds:F0} s";
    }

    /// <summary>
    /// The version onto the mounted target by the one update engine, as `sidus node update` runs it later: only the
    /// contents it lacks travel (all of them, the first time), and its state cache and version file are left where
    /// the node's updates read them, so the first update is a stat walk and knows the drift. Into the target's own
    /// mounts (a separate /boot), with the node's key and state kept. A failure (the server gone, a corrupt
    /// content) is said and retried: what was written stays, only what is missing travels again.
    /// </summary>
    private static async Task<NodeUpdateResult> WriteVersionAsync(EventReporter reporter, InstallPlan plan)
    {
        var options = new UpdateOptions
        {
            Root = Target, Server = reporter.Server, Mac = reporter.Mac, TokenFile = AgentSession.DefaultPath,
            To = plan.Version, ToName = plan.ImageRef, StayOnFilesystem = false,
            Say = AgentConsole.Say, Excludes = LostAndFound(plan),
        };
        var backoff = new Backoff(5, 60);
        for (var attempt = 1; ; attempt++)
        {
            var result = await NodeUpdater.RunAsync(options, CancellationToken.None);
            if (result.Problem is null)
            {
                return result;
            }

            if (attempt == 10)
            {
                throw new InstallException($"writing {plan.ImageRef} failed {attempt} times, the last: {result.Problem}");
            }

            var wait = backoff.Next();
            await reporter.ReportAsync(NodeEventStages.Failed, $"install: writing {plan.ImageRef}: {result.Problem}; again in {wait.TotalSeconds:F0} s");
            AgentConsole.Fail($"writing {plan.ImageRef}: {result.Problem}; again in {wait.TotalSeconds:F0} s (attempt {attempt})");
            await Task.Delay(wait);
        }
    }

    /// <summary>
    /// The lost+found directory mkfs.ext4 made on each new ext4 filesystem: the image has none, and the sync would
    /// otherwise remove it, leaving fsck to make it again at the first check.
    /// </summary>
    internal static List<string> LostAndFound(InstallPlan plan) =>
        [.. plan.Mounts.Where(m => plan.Formats.Any(f => f.Id == m.Format && f.FsType == "ext4" && !f.Preserve))
            .Select(m => (m.Path == "/" ? string.Empty : m.Path) + "/lost+found").Order(StringComparer.Ordinal)];

    /// <summary>
    /// The engine's record of the disk as the install leaves it (the overrides, fstab, the bootloader written after
    /// the version): one more pass with an update's excludes and the layer's paths, as `sidus node update` will
    /// make, so the first drift check finds nothing the install itself did.
    /// </summary>
    private static async Task SettleAsync(EventReporter reporter, InstallPlan plan)
    {
        // The node's settings are on the disk now: the engine leaves the override layer's paths alone, as updates will.
        var result = await NodeUpdater.RunAsync(new UpdateOptions
        {
            Root = Target, Server = reporter.Server, Mac = reporter.Mac, TokenFile = AgentSession.DefaultPath,
            To = plan.Version, ToName = plan.ImageRef, StayOnFilesystem = true,
        }, CancellationToken.None);
        if (result.Problem is { } problem)
        {
            // The disk is complete; only the record is not: the first update then compares by content.
            AgentConsole.Fail($"install: the final pass over the disk failed ({problem}): the first update will check every file");
        }
        else
        {
            AgentConsole.Say($"install: final pass: {result.Unchanged} unchanged, {result.Created} created, {result.Updated} updated, {result.Deleted} deleted");
        }
    }

    private static async Task<InstallPlan> PlanAsync(HttpClient http, EventReporter reporter, string firmware, List<DiskFacts> disks)
    {
        var backoff = new Backoff(2, 60);
        while (true)
        {
            string problem;
            try
            {
                using var body = new StringContent(InstallPlan.FormatDisks(firmware, disks), Encoding.UTF8, "text/plain");
                using var response = await http.PostAsync(reporter.Server + InstallPlan.Plan(reporter.Mac!), body);
                var text = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode)
                {
                    return InstallPlan.Parse(text);
                }

                if (response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden)
                {
                    // The layout does not fit, or this node may not install: the admin must change something first.
                    throw new InstallException("the server refused the install: " + ServerProblem.Text(text));
                }

                problem = $"the server answered {(int)response.StatusCode} for the install plan: {ServerProblem.Text(text)}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                problem = $"cannot ask {reporter.Server} for the install plan: {e.Message}";
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"{problem}; asking again in {wait.TotalSeconds:F0} s");
            await Task.Delay(wait);
        }
    }

    /// <summary>Refuses, before any disk is touched, an image that lacks a tool the plan needs, naming every package to add.</summary>
    internal static void CheckImage(ToolRoot tools, InstallPlan plan)
    {
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        void Need(bool present, string package)
        {
            if (!present)
            {
                missing.Add(package);
            }
        }

        Need(tools.Find("sfdisk") is not null, "fdisk");
        Need(tools.Find("blkid") is not null && tools.Find("wipefs") is not null, "util-linux");
        Need(plan.Raids.Count == 0 || tools.Find("mdadm") is not null, "mdadm");
        Need(plan.Groups.Count == 0 || tools.Find("lvm") is not null, "lvm2");
        foreach (var f in plan.Formats.Where(f => !f.Preserve))
        {
            var (tool, package) = Makers[f.FsType];
            Need(tools.Find(tool) is not null, package);
        }

        Need(tools.Find("grub-install") is not null && tools.Find("update-grub") is not null, "grub2-common");
        var bios = plan.Firmware == InstallPlan.Bios;
        Need(tools.Has(bios ? BiosModules : EfiModules), bios ? "grub-pc-bin" : "grub-efi-amd64-bin");
        var kernels = Directory.Exists(tools.Root + "/boot") ? Directory.GetFiles(tools.Root + "/boot", "vmlinuz-*") : [];
        Need(kernels.Length > 0, "linux-image-amd64");
        if (missing.Count > 0)
        {
            throw new InstallException(
                $"{plan.ImageRef} cannot be installed: it lacks {string.Join(", ", missing)}. Nothing was written to any disk. Add them with: " +
                $"sidus image exec {plan.ImageRef.Split('@')[0]} -- apt-get install -y {string.Join(' ', missing)}");
        }
    }

    private static void Partition(ToolRoot tools, InstallPlan plan, PlannedDisk disk)
    {
        var parts = plan.Partitions.Where(p => p.Disk == disk.Id).OrderBy(p => p.Number).ToList();
        if (disk.Preserve)
        {
            AgentConsole.Say($"{disk.Device}: preserved, its partition table is left as it is");
            return;
        }

        if (parts.Count == 0)
        {
            // Used whole (by an array, a volume group or a filesystem): a table would only be in its way.
            AgentConsole.Say($"{disk.Device}: used whole, no partition table; its old signatures wiped");
            tools.Must("wipefs", ["--all", "--quiet", "/dev/" + disk.Device], "util-linux");
            return;
        }

        var gpt = disk.Table == InstallPlan.Gpt;
        var script = new StringBuilder($"label: {(gpt ? "gpt" : "dos")}\nunit: sectors\n");
        foreach (var p in parts)
        {
            var type = gpt ? PartitionTypes[p.Role].Gpt : PartitionTypes[p.Role].Msdos;
            script.Append(CultureInfo.InvariantCulture, $"start={p.Start / 512}, size={p.Size / 512}, type={type}");
            script.Append(gpt ? $", name={p.Id}\n" : p.Role == InstallPlan.Roles.Esp || p == parts.FirstOrDefault(x => x.Role is InstallPlan.Roles.Linux or InstallPlan.Roles.Raid or InstallPlan.Roles.Lvm) ? ", bootable\n" : "\n");
        }

        var keeps = parts.Any(p => p.Preserve);
        AgentConsole.Say($"{disk.Device}: writing a {disk.Table} table with {parts.Count} partitions" + (keeps ? " (the preserved ones at their place, their data untouched)" : string.Empty));
        // --wipe never when something is preserved: wiping the disk's signatures could reach a kept partition's.
        tools.Must("sfdisk", ["--no-reread", "--no-tell-kernel", "--wipe", keeps ? "never" : "always", "--wipe-partitions", "never", "/dev/" + disk.Device], "fdisk", script.ToString());
        tools.Must("partx", ["--update", "/dev/" + disk.Device], "util-linux");
    }

    /// <summary>The device of every partition and disk the formats name, once the kernel shows the new partitions.</summary>
    private static async Task<Dictionary<string, string>> VolumesAsync(InstallPlan plan)
    {
        var devices = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in plan.Disks)
        {
            devices[d.Id] = "/dev/" + d.Device;
        }

        var deadline = Stopwatch.StartNew();
        foreach (var p in plan.Partitions)
        {
            var disk = plan.Disks.First(d => d.Id == p.Disk).Device;
            string? name;
            while ((name = DiskScan.PartitionDevice(disk, p.Number)) is null || !File.Exists("/dev/" + name))
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InstallException($"partition {p.Number} of {disk} did not appear in /sys/block/{disk} after the table was written");
                }

                await Task.Delay(200);
            }

            devices[p.Id] = "/dev/" + name;
        }

        return devices;
    }

    private static void Format(ToolRoot tools, InstallPlan plan, Dictionary<string, string> devices, EventReporter reporter)
    {
        foreach (var f in plan.Formats)
        {
            var device = devices[f.Volume];
            if (f.Preserve)
            {
                AgentConsole.Say($"{device}: {f.FsType} '{f.Id}' preserved, not formatted");
                continue;
            }

            var (tool, package) = Makers[f.FsType];
            List<string> args = f.FsType switch
            {
                "ext4" => ["-F", "-q", "-E", "nodiscard"],
                "xfs" or "btrfs" => ["-f", "-q"],
                "vfat" => ["-F", "32"],
                _ => ["-f"],
            };
            if (f.Label is { } label)
            {
                args.AddRange(f.FsType == "vfat" ? ["-n", label.ToUpperInvariant()] : ["-L", label]);
            }

            if (f.Options is { } options)
            {
                args.AddRange(options.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }

            args.Add(device);
            AgentConsole.Say($"{device}: making {f.FsType} '{f.Id}'");
            tools.Must(tool, args, package);
        }

        _ = reporter.ReportAsync(NodeEventStages.Root, $"install: {plan.Formats.Count(f => !f.Preserve)} filesystems made");
    }

    /// <summary>Mounts the new filesystems under <see cref="Target"/>, root first; swap and preserved ones are not mounted.</summary>
    private static List<string> MountTarget(InstallPlan plan, Dictionary<string, string> devices, List<PlannedMount> mounts)
    {
        var mounted = new List<string>();
        foreach (var m in mounts.OrderBy(m => m.Path == "/" ? 0 : m.Path.Count(c => c == '/')).ThenBy(m => m.Path, StringComparer.Ordinal))
        {
            var f = plan.Formats.First(x => x.Id == m.Format);
            if (f.FsType == "swap" || f.Preserve)
            {
                continue;
            }

            MountNew(devices[f.Volume], f.FsType, m.Path);
            mounted.Add($"{devices[f.Volume]} on {m.Path}");
        }

        return mounted;
    }

    /// <summary>Mounts a filesystem the install made (DEVICE, of FSTYPE) on PATH of the new system, under <see cref="Target"/>.</summary>
    private static void MountNew(string device, string fsType, string path)
    {
        var at = path == "/" ? Target : Target + path;
        Directory.CreateDirectory(at);
        try
        {
            // vfat: "quiet" makes the owner and mode the sync sets on its root succeed silently (FAT has neither).
            Mounts.Mount(device, at, fsType, 0, fsType == "vfat" ? "quiet,umask=0077" : null);
        }
        catch (LinuxException e)
        {
            throw new InstallException($"mounting {device} ({fsType}) on {path} failed: {e.Message}");
        }
    }

    /// <summary>Each filesystem's UUID (by format id; "" when blkid finds none), read once for fstab and GRUB.</summary>
    private static Dictionary<string, string> Uuids(ToolRoot tools, InstallPlan plan, Dictionary<string, string> devices) =>
        plan.Formats.ToDictionary(f => f.Id, f => tools.Must("blkid", ["-s", "UUID", "-o", "value", devices[f.Volume]], "util-linux").Trim(), StringComparer.Ordinal);

    private static void WriteFstab(InstallPlan plan, Dictionary<string, string> devices, Dictionary<string, string> uuids)
    {
        var fstab = new StringBuilder("# written by Sidus at install (layout of ").Append(plan.ImageRef).Append("); filesystems by UUID\n");
        // Swap has no mount item: every swap filesystem of the layout is enabled from fstab.
        var entries = plan.Mounts.OrderBy(m => m.Path == "/" ? 0 : 1).ThenBy(m => m.Path, StringComparer.Ordinal)
            .Concat(plan.Formats.Where(f => f.FsType == "swap" && plan.Mounts.All(m => m.Format != f.Id)).Select(f => new PlannedMount(f.Id, "none", null)));
        foreach (var m in entries)
        {
            var f = plan.Formats.First(x => x.Id == m.Format);
            var uuid = uuids[f.Id];
            var source = uuid.Length > 0 ? "UUID=" + uuid : devices[f.Volume];
            var (path, options, pass) = f.FsType switch
            {
                "swap" => ("none", m.Options ?? "sw", 0),
                // The firmware reads the ESP, the running system does not need it: with a mirror's first disk gone, a
                // boot that waited for it would end in systemd's emergency shell.
                "vfat" when plan.Partitions.Any(p => p.Id == f.Volume && p.Role == InstallPlan.Roles.Esp) => (m.Path, m.Options ?? "umask=0077,nofail", 2),
                "vfat" => (m.Path, m.Options ?? "umask=0077", 2),
                _ when m.Path == "/" => (m.Path, m.Options ?? "errors=remount-ro", 1),
                _ => (m.Path, m.Options ?? "defaults", 2),
            };
            fstab.Append(CultureInfo.InvariantCulture, $"{source}\t{path}\t{f.FsType}\t{options}\t0\t{pass}\n");
        }

        Directory.CreateDirectory(Target + "/etc");
        File.WriteAllText(Target + "/etc/fstab", fstab.ToString());
    }

    /// <summary>The node's own files (<see cref="InstalledNode"/>): its key, its agent's settings, the version, the agent itself.</summary>
    private static async Task WriteNodeFilesAsync(HttpClient http, EventReporter reporter, AgentKernelArguments line, InstallPlan plan)
    {
        Directory.CreateDirectory(Target + InstalledNode.ConfigDirectory);
        Directory.CreateDirectory(Target + InstalledNode.StateDirectory);
        var key = await AskKeyAsync(http, reporter);
        var keyFile = Target + InstalledNode.KeyFile;
        File.WriteAllText(keyFile + ".new", string.Empty);
        File.SetUnixFileMode(keyFile + ".new", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(keyFile + ".new", key + "\n");
        File.Move(keyFile + ".new", keyFile, overwrite: true);
        File.WriteAllText(Target + InstalledNode.SettingsFile, new InstalledNode.Settings(reporter.Server!, reporter.Mac!, line.Node ?? line.Hostname ?? "node").Format());
        AtomicFile.WriteText(Target + InstalledNode.VersionFile, new NodeVersion(plan.Version, plan.ImageRef).Format());
        var agent = Target + InstalledNode.AgentPath;
        File.Copy(System.Environment.ProcessPath ?? "/init", agent, overwrite: true);
        File.SetUnixFileMode(agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
            UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    private static async Task<string> AskKeyAsync(HttpClient http, EventReporter reporter)
    {
        var backoff = new Backoff(2, 30);
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                using var response = await http.PostAsync(reporter.Server + InstallPlan.Key(reporter.Mac!), new StringContent(string.Empty));
                var text = (await response.Content.ReadAsStringAsync()).Trim();
                if (response.IsSuccessStatusCode && NodeCredentials.IsWellFormed(text))
                {
                    return text;
                }

                problem = $"{(int)response.StatusCode}: {ServerProblem.Text(text)}";
                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    throw new InstallException("the server refused this node a key: " + problem);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                problem = e.Message;
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"asking for the node's key: {problem}; again in {wait.TotalSeconds:F0} s");
            await Task.Delay(wait);
        }
    }

    /// <summary>
    /// GRUB into the installed system, run there: for BIOS (i386-pc) into the disk holding the bios_grub partition or
    /// an msdos table, for UEFI (x86_64-efi) onto each ESP's removable path EFI/BOOT/BOOTX64.EFI with --no-nvram: the
    /// firmware's boot order is never touched, so network boot stays first and the server stays in control. A layout
    /// with both (Sidus's default) gets both, so the disk boots under either firmware; a mirror with an ESP on each
    /// disk gets GRUB on each, so either disk boots alone. Then grub.cfg from the image's kernels and the node's
    /// kernel arguments (/etc/default/grub.d/90-sidus.cfg, from the override layer).
    /// </summary>
    private static void InstallBootloader(InstallPlan plan, Dictionary<string, string> devices, Dictionary<string, string> uuids, EventReporter reporter)
    {
        var system = new ToolRoot(Target);
        system.BindKernelTrees();
        try
        {
            var biosDisks = BiosDisks(plan);

            var done = new List<string>();
            foreach (var disk in system.Has(BiosModules) ? biosDisks : [])
            {
                system.Must("grub-install", ["--target=i386-pc", "--recheck", devices[disk]], "grub-pc-bin");
                done.Add($"BIOS on {devices[disk]}");
            }

            foreach (var (esp, mountedAt) in system.Has(EfiModules) ? EspTargets(plan) : [])
            {
                InstallEfi(system, devices[esp.Volume], mountedAt);
                done.Add($"UEFI on {devices[esp.Volume]}" + (done.Any(d => d.StartsWith("UEFI", StringComparison.Ordinal)) ? "" : " (EFI/BOOT/BOOTX64.EFI, firmware boot order untouched)"));
            }

            // grub-mkconfig names the root by UUID only when udev's link for it exists; no udev runs here.
            LinkByUuid(plan, devices, uuids);
            system.Must("update-grub", [], "grub2-common");
            if (plan.Firmware == InstallPlan.Uefi && !done.Any(d => d.StartsWith("UEFI", StringComparison.Ordinal)))
            {
                throw new InstallException("this UEFI node's layout has no ESP with a vfat filesystem the install makes: the disk would not boot under UEFI");
            }

            if (done.Count == 0)
            {
                throw new InstallException($"GRUB has nowhere to go on this {plan.Firmware} node (no bios_grub partition, no partitioned msdos disk, no ESP): the disk would not boot");
            }

            AgentConsole.Say("GRUB: " + string.Join("; ", done));
            _ = reporter.ReportAsync(NodeEventStages.Root, "install: GRUB " + string.Join("; ", done));
        }
        finally
        {
            system.Unbind();
        }
    }

    /// <summary>
    /// The disks GRUB goes to under BIOS: every disk with a bios_grub partition the install makes (with the root on an
    /// array, any disk left boots), else every msdos disk it partitions. Never a preserved disk or partition: GRUB
    /// would write over them.
    /// </summary>
    internal static List<string> BiosDisks(InstallPlan plan)
    {
        var kept = plan.Disks.Where(d => d.Preserve).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var disks = plan.Partitions.Where(p => p.Role == InstallPlan.Roles.BiosGrub && !p.Preserve && !kept.Contains(p.Disk)).Select(p => p.Disk).Distinct().ToList();
        return disks.Count > 0 ? disks
            : [.. plan.Disks.Where(d => d.Table == InstallPlan.Msdos && !d.Preserve && plan.Partitions.Any(p => p.Disk == d.Id && !p.Preserve)).Select(d => d.Id)];
    }

    /// <summary>
    /// The ESPs GRUB goes to under UEFI, each a vfat filesystem the install makes (never a preserved one), with where
    /// the installed system mounts it: the one at /boot/efi first (the system's own GRUB updates go there), then the
    /// others (the ESPs of a mirror's other disks), mounted only while GRUB is put on them.
    /// </summary>
    internal static List<(PlannedFormat Esp, string? MountedAt)> EspTargets(InstallPlan plan)
    {
        var kept = plan.Disks.Where(d => d.Preserve).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        return [.. plan.Partitions.Where(p => p.Role == InstallPlan.Roles.Esp && !p.Preserve && !kept.Contains(p.Disk))
            .SelectMany(p => plan.Formats.Where(f => f.Volume == p.Id && f.FsType == "vfat" && !f.Preserve))
            .Select(f => (Esp: f, MountedAt: plan.Mounts.FirstOrDefault(m => m.Format == f.Id)?.Path))
            .OrderBy(e => e.MountedAt == EfiMount ? 0 : 1)];
    }

    /// <summary>GRUB's removable-path loader onto the ESP on DEVICE: where the new system mounts it, else mounted for this alone.</summary>
    private static void InstallEfi(ToolRoot system, string device, string? mountedAt)
    {
        var directory = mountedAt ?? "/tmp/sidus-esp";
        if (mountedAt is null)
        {
            MountNew(device, "vfat", directory);
        }

        try
        {
            system.Must("grub-install", ["--target=x86_64-efi", "--efi-directory=" + directory, "--removable", "--no-nvram", "--no-uefi-secure-boot"], "grub-efi-amd64-bin");
        }
        finally
        {
            if (mountedAt is null)
            {
                Mounts.Unmount(Target + directory);
                Directory.Delete(Target + directory);
            }
        }
    }

    /// <summary>/dev/disk/by-uuid/UUID for each filesystem made, as udev would link them.</summary>
    private static void LinkByUuid(InstallPlan plan, Dictionary<string, string> devices, Dictionary<string, string> uuids)
    {
        Directory.CreateDirectory("/dev/disk/by-uuid");
        foreach (var f in plan.Formats.Where(f => f.FsType != "swap"))
        {
            var uuid = uuids[f.Id];
            var link = "/dev/disk/by-uuid/" + uuid;
            if (uuid.Length > 0 && !uuid.Contains('/', StringComparison.Ordinal) && !File.Exists(link))
            {
                File.CreateSymbolicLink(link, devices[f.Volume]);
            }
        }
    }

    private static void Unmount(List<string> mounted)
    {
        ProcessRoot.Sync();
        foreach (var what in Enumerable.Reverse(mounted))
        {
            var at = what[(what.IndexOf(" on ", StringComparison.Ordinal) + 4)..];
            var path = at == "/" ? Target : Target + at;
            try
            {
                Mounts.Unmount(path);
            }
            catch (LinuxException e)
            {
                AgentConsole.Fail($"unmounting {path}: {e.Message}; detaching it");
                Mounts.Unmount(path, 2);
            }
        }
    }

    private static async Task ReportDoneAsync(HttpClient http, EventReporter reporter, InstallPlan plan)
    {
        var backoff = new Backoff(2, 30);
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            try
            {
                using var body = new StringContent(InstallPlan.FormatDone(false, plan.Version), Encoding.UTF8, "text/plain");
                using var response = await http.PostAsync(reporter.Server + InstallPlan.Installed(reporter.Mac!), body);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                AgentConsole.Fail($"the server did not take the install report ({(int)response.StatusCode}): {ServerProblem.Text(await response.Content.ReadAsStringAsync())}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                AgentConsole.Fail($"reporting the install: {e.Message}");
            }

            await backoff.WaitAsync();
        }

        // The disk is complete: booting it is right even if the server did not hear of it. Its next network boot
        // (still mode install) would install again; the admin sees the failed report in the node's events.
        AgentConsole.Fail("the server never took the install report: the node boots its disk now, but its next network boot installs it again");
    }

    private static Task StepAsync(EventReporter reporter, string detail)
    {
        AgentConsole.Say(detail);
        return reporter.ReportAsync(NodeEventStages.Root, detail);
    }
}
