using Sidus.Store.Capture;
using Sidus.Store.Diff;
using Sidus.Store.Json;

namespace Sidus.Cli.Commands.Image;

public static class CaptureCommand
{
    /// <summary>The walker sent to the client, when not the sidus-walk beside sidus (tests, other builds).</summary>
    public const string WalkerVariable = "SIDUS_WALKER";

    private const int MaxTimeout = 7 * 24 * 3600;

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Image to add a version to (created if new)" };
        var client = new Argument<string>("client") { Description = "The golden client: ssh://[USER@]HOST[:PORT] (root, or a user with --sudo: the walker reads every file)" };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "A path to leave out, absolute: /srv/data (it and all under it) or /srv/data/* (what is in it); repeatable",
            HelpName = "PATH",
            AllowMultipleArgumentsPerToken = false,
        };
        var excludeFile = new Option<string?>("--exclude-file") { Description = "More excludes, one path a line (# comments)", HelpName = "FILE" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Print every path that would change against the image's newest version; record nothing (a drift check)" };
        var identity = new Option<string?>("--identity", "-i") { Description = "The SSH private key to log in with (default: ssh's own choice: agent, ~/.ssh/config)", HelpName = "KEY" };
        var sshOption = new Option<string[]>("--ssh-option", "-o")
        {
            Description = "An ssh -o option (ProxyJump=bastion, UserKnownHostsFile=FILE...); repeatable. Host keys are always checked",
            HelpName = "OPTION",
        };
        var keepNothing = new Option<bool>("--keep-nothing")
        {
            Description = "Leave nothing on the client: no state cache, no copy of the walker, and those an earlier capture " +
                          "kept removed (the next capture hashes every file and sends the walker again)",
        };
        var sudo = new Option<bool>("--sudo") { Description = "Log in as USER and run the walker as root with sudo -n (USER needs a sudo rule that asks no password)" };
        var message = new Option<string?>("--message", "-m") { Description = "What this version is (default: capture of HOST (ADDRESS))" };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Give up when the client sends nothing for this long, its login included",
            DefaultValueFactory = _ => (int)new CaptureOptions().IdleLimit.TotalSeconds,
            HelpName = "SECONDS",
        };
        timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is <= 0 or > MaxTimeout)
            {
                result.AddError($"--timeout must be from 1 to {MaxTimeout} seconds (a week)");
            }
        });
        var json = GlobalOptions.Json();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr" };
        var command = new Command("capture", """
            Capture a running machine (a golden client) over SSH as a new version of an
            image. Sidus sends its walker (sidus-walk) over ssh and runs it: the client
            needs only sshd. The walker reads the root and the client's other local
            filesystems byte for byte (no /proc, /sys, /run, /tmp contents, no network
            or FUSE mounts), leaves out machine state (SSH host keys, machine-id,
            leases, logs: see docs/capture.md), the image's
            /etc/sidus/capture.exclude and --exclude, and sends only the contents the
            store lacks, compressed. A state cache and a copy of the walker are kept
            in /var/lib/sidus on the client (left out of every capture): a recapture
            hashes only the files changed since the last one, and sends no program
            (--keep-nothing leaves nothing there).
            """)
        {
            name, client, exclude, excludeFile, dryRun, identity, sshOption, sudo, keepNothing, message, timeout, json, quiet, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, ct) =>
        {
            var target = SshTarget.Parse(result.GetValue(client)!);
            var excludes = (result.GetValue(exclude) ?? []).ToList();
            if (result.GetValue(excludeFile) is { } file)
            {
                excludes.AddRange(ImageListFile.Parse(File.ReadAllText(file)));
            }

            var asJson = result.GetValue(json);
            var options = new CaptureOptions
            {
                Excludes = excludes, DryRun = result.GetValue(dryRun), Message = result.GetValue(message), IdleLimit = TimeSpan.FromSeconds(result.GetValue(timeout)),
            };
            var walkerPath = Environment.GetEnvironmentVariable(WalkerVariable) ?? Path.Combine(AppContext.BaseDirectory, "sidus-walk");
            using var progress = new ConsoleProgress(!result.GetValue(quiet) && !asJson);
            // The store is read while ssh logs in: the walker then has its request as soon as it starts.
            var prepared = Task.Run(() => ImageCapture.Prepare(images, result.GetValue(name)!, options), ct);
            WalkerProcess started;
            try
            {
                started = SshWalker.Start(target, walkerPath, result.GetValue(identity), result.GetValue(sshOption) ?? [], options.IdleLimit, result.GetValue(sudo), result.GetValue(keepNothing));
            }
            catch
            {
                // Not left reading a store that is closed as the error goes out (its own error is the lesser one).
                prepared.WaitEnded();

                throw;
            }

            using var walker = started;
            CaptureResult capture;
            try
            {
                capture = ImageCapture.Run(images, prepared.GetAwaiter().GetResult(), target.ToString(), walker, progress, ct) with { WalkerBytes = walker.WalkerBytes };
            }
            catch (StoreException) when (walker.Finish(TimeSpan.FromSeconds(10)) is var (code, errors) && code is SshWalker.SshFailure or SshWalker.WrongArchitecture or SshWalker.NowhereToRun or SshWalker.SudoRefused)
            {
                throw SshWalker.Failed(target, code, errors);
            }

            walker.Finish(TimeSpan.FromSeconds(30));
            progress.Dispose();
            Print(capture, asJson);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(CaptureResult capture, bool json)
    {
        if (json)
        {
            JsonOutput.Write(VersionJson.Capture(capture));
            return;
        }

        if (capture.Changes is { } changes)
        {
            DiffCommand.PrintChanges(changes);
            Console.Error.WriteLine(changes.Count == 0
                ? $"{capture.Host}: {capture.Entries} entries, no change: the client matches the image's newest version"
                : $"{capture.Host}: {capture.Entries} entries; a capture would record these changes (dry run: nothing recorded)");
            return;
        }

        Console.Error.WriteLine($"{capture.Host}: {capture.Entries} entries, {capture.Files} files, {Units.Bytes(capture.Bytes)}; " +
                                $"{capture.ContentsSent} contents sent ({Units.Bytes(capture.ContentBytes)}), {Units.Bytes(capture.WireBytes)} on the wire");
        VersionOutput.Print(capture.Version!, json: false);
    }
}
