using System.IO.Compression;
using Sidus.Store.Build;

namespace Sidus.Store.Capture;

/// <summary>
/// Starts the walker on a golden client through the system's OpenSSH client, so ~/.ssh/config, agents, jump hosts
/// and known_hosts work as the admin set them. One connection: a small sh script reads the gzipped walker (an exact
/// number of bytes, with dd), writes it to a private temporary directory where programs may run (/dev/shm, which no
/// capture takes, so a drift check sees no change of its own making; else /tmp, /var/tmp or home), and execs it; the walker deletes its own directory at once, so nothing stays behind
/// even when the capture is killed. BatchMode and StrictHostKeyChecking=yes come first on ssh's command line (its
/// first value of an option wins): no password prompt, and an unknown or changed host key is refused. With sudo, a
/// user who logs in runs the walker as root through `sudo -n` (never a password prompt: a rule without one is needed).
/// </summary>
public static class SshWalker
{
    /// <summary>The only walker this build has (uname -m of the clients it can capture).</summary>
    public const string Architecture = "x86_64";

    /// <summary>ssh's exit code for its own failures (connection, authentication, host key).</summary>
    public const int SshFailure = 255;
    public const int WrongArchitecture = 97;
    public const int NowhereToRun = 98;
    public const int SudoRefused = 96;

    private const int DdBlock = 65536;

    /// <summary>
    /// glibc's allocator settings for the ssh client. When the capture reads slower than the client sends (the server
    /// stores as it receives), ssh holds the difference in its channel buffer, which it grows by copying into a fresh
    /// allocation (recallocarray); glibc maps each large one anew and unmaps it when freed, so every growth touched
    /// fresh pages: 87,000 page faults in ssh for a 130 MB capture (0.6-1 s of CPU on a virtual machine), 3,500 with
    /// these (large blocks from the heap, kept for reuse). Ignored where the C library is not glibc.
    /// </summary>
    private const string SshMallocTunables = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456";

    // $1 = the walker's architecture, $2 = "sudo" to run it through sudo (checked once the walker is read, so ssh's
    // input is taken whole). The input's first line holds the whole dd blocks of the gzipped walker and the bytes
    // after them (read one byte at a time by the shell: nothing of the walker is taken with it).
    private const string Script = """
        set -e
        m=$(uname -m)
        [ "$m" = "$1" ] || { echo "sidus: the client is $m, and this sidus has a walker for $1 only" >&2; exit 97; }
        read -r n r
        umask 077
        d=$(mktemp -d /dev/shm/sidus-walk.XXXXXXXX 2>/dev/null || mktemp -d /tmp/sidus-walk.XXXXXXXX)
        { dd bs=65536 count=$n iflag=fullblock; [ "$r" = 0 ] || dd bs=$r count=1 iflag=fullblock; } 2>/dev/null | gzip -dc > "$d/sidus-walk" ||
          { rm -rf "$d"; echo "sidus: cannot write the walker into $d (a full filesystem?)" >&2; exit 98; }
        chmod 700 "$d/sidus-walk"
        run=
        if [ "$2" = sudo ]; then
          command -v sudo >/dev/null 2>&1 || { rm -rf "$d"; echo "sidus: --sudo, but the client has no sudo" >&2; exit 96; }
          e=$(sudo -n true 2>&1) || { rm -rf "$d"; echo "sidus: sudo refused $(id -un) without a password: $e" >&2; exit 96; }
          run="sudo -n --"
        fi
        for t in /tmp /var/tmp "$HOME" ""; do
          why=$("$d/sidus-walk" probe </dev/null 2>&1 >/dev/null) && exec $run "$d/sidus-walk" capture --remove "$d"
          [ -n "$t" ] || break
          e=$(mktemp -d "$t/sidus-walk.XXXXXXXX") || continue
          cp "$d/sidus-walk" "$e/" || { rm -rf "$e"; continue; }
          rm -rf "$d"; d=$e
        done
        rm -rf "$d"
        echo "sidus: no directory on the client lets the walker run (/dev/shm, /tmp, /var/tmp, home): ${why:-it does not start}" >&2
        exit 98
        """;

    /// <summary>The ssh arguments for TARGET: ours first, then the admin's options, then the destination.</summary>
    public static List<string> Arguments(SshTarget target, string? identity, IEnumerable<string> options, string remoteCommand)
    {
        var arguments = new List<string> { "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes" };
        if (identity is not null)
        {
            arguments.AddRange(["-i", identity, "-o", "IdentitiesOnly=yes"]);
        }

        foreach (var option in options)
        {
            arguments.AddRange(["-o", option]);
        }

        if (target.Port is { } port)
        {
            arguments.AddRange(["-p", port.ToString(CultureInfo.InvariantCulture)]);
        }

        if (target.User is { } user)
        {
            arguments.AddRange(["-l", user]);
        }

        arguments.AddRange(["--", target.Host, remoteCommand]);
        return arguments;
    }

    /// <summary>Connects, sends the walker and starts it; the returned process speaks the capture protocol.</summary>
    public static WalkerProcess Start(SshTarget target, string walkerPath, string? identity, IReadOnlyList<string> options, bool sudo = false)
    {
        var ssh = ExternalTool.Require("ssh", "openssh-client");
        if (!File.Exists(walkerPath))
        {
            throw new StoreException($"the walker is missing ({walkerPath}): run ./sidus once (it builds sidus-walk next to the sidus binary)", StoreErrorKind.NotFound);
        }

        // ssh starts first: its login (a quarter of a second, mostly waiting on the network and the client) goes on
        // while the walker is compressed, and the script reads its length from its first line.
        var process = WalkerProcess.Start(ssh, Arguments(target, identity, options, $"/bin/sh -c '{Script}' sidus-walk {Architecture} {(sudo ? "sudo" : "-")}"),
            new Dictionary<string, string?>
            {
                ["GLIBC_TUNABLES"] = Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { Length: > 0 } set ? set + ":" + SshMallocTunables : SshMallocTunables,
            });
        try
        {
            var walker = Gzip(walkerPath);
            process.ToWalker.Write(Encoding.ASCII.GetBytes($"{walker.Length / DdBlock} {walker.Length % DdBlock}\n"));
            process.ToWalker.Write(walker);
            process.ToWalker.Flush();
        }
        catch (IOException)
        {
            // ssh ended before it took the walker: its own words say why.
            var (code, errors) = process.Finish(TimeSpan.FromSeconds(30));
            process.Dispose();
            throw Failed(target, code, errors);
        }

        return process;
    }

    /// <summary>The error for a walker connection that ended with CODE and ERRORS (ssh's or the script's).</summary>
    public static StoreException Failed(SshTarget target, int code, string errors)
    {
        // The script's own lines start "sidus: ", as the CLI's message will.
        var said = errors.Trim().Length > 0 ? errors.Trim() : $"exit code {code}";
        said = said.StartsWith("sidus: ", StringComparison.Ordinal) ? said["sidus: ".Length..] : said;
        var hint = code switch
        {
            SshFailure when errors.Contains("Host key verification failed", StringComparison.Ordinal) ||
                             errors.Contains("HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal) =>
                $"the client's host key is unknown or changed. Check its fingerprint on the client (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then add it to known_hosts (ssh-keyscan {target.Host} >> ~/.ssh/known_hosts); sidus never accepts a key by itself",
            // A program that dies on a signal (a crash) makes ssh end with 255 too: its own words are then no ssh's.
            SshFailure when errors.Contains("Unhandled exception", StringComparison.Ordinal) =>
                "the walker failed on the client (its error above); nothing was changed there",
            SshFailure => $"ssh could not reach or log in to {target}: check that 'ssh {(target.User is null ? "" : target.User + "@")}{target.Host}' works without a password (a key, --identity, or an agent)",
            WrongArchitecture => "capture that client with a sidus built for its architecture",
            NowhereToRun => "where they are mounted noexec, remount one of them without it for the capture (mount -o remount,exec /tmp), or log in as a user whose home allows programs",
            SudoRefused => $"give {target.User ?? "that user"} a sudo rule that asks no password (in /etc/sudoers.d/: '{target.User ?? "USER"} ALL=(root) NOPASSWD: ALL'; the walker's path is new each time), or log in as root",
            _ => "the capture stopped on the client",
        };
        return new StoreException($"{said}\n{hint}. Nothing was recorded.", StoreErrorKind.Failure);
    }

    private static byte[] Gzip(string path)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var input = File.OpenRead(path))
        {
            input.CopyTo(gzip);
        }

        return output.ToArray();
    }
}
