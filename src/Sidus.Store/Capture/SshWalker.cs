using System.IO.Compression;
using System.Security.Cryptography;
using Sidus.Store.Build;

namespace Sidus.Store.Capture;

/// <summary>
/// Starts the walker on a golden client through the system's OpenSSH client, so ~/.ssh/config, agents, jump hosts
/// and known_hosts work as the admin set them. One connection: a small sh script first looks for this very walker
/// kept by an earlier capture (<see cref="KeptWalker"/>, beside the state cache, named by its SHA-256) and runs it;
/// else it says so, reads the gzipped walker (an exact number of bytes, with dd), writes it to a private temporary
/// directory where programs may run (/dev/shm, which no capture takes, so a drift check sees no change of its own
/// making; else /tmp, /var/tmp or home), and execs it; the walker deletes that directory at once, so nothing stays
/// behind even when the capture is killed, and a capture that records a version keeps a copy beside the state cache
/// for the next one (as salt-ssh keeps its thin agent): a recapture then moves no program at all. BatchMode and
/// StrictHostKeyChecking=yes come first on ssh's command line (its first value of an option wins): no password
/// prompt, and an unknown or changed host key is refused. With sudo, a user who logs in runs the walker as root
/// through `sudo -n` (never a password prompt: a rule without one is needed); root's kept copy is not used then.
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

    // Start's wait for the script's first line.
    private const int Waiting = 0;
    private const int Answered = 1;
    private const int CutOff = 2;

    /// <summary>
    /// glibc's allocator settings for the ssh client. When the capture reads slower than the client sends (the server
    /// stores as it receives), ssh holds the difference in its channel buffer, which it grows by copying into a fresh
    /// allocation (recallocarray); glibc maps each large one anew and unmaps it when freed, so every growth touched
    /// fresh pages: 87,000 page faults in ssh for a 130 MB capture (0.6-1 s of CPU on a virtual machine), 3,500 with
    /// these (large blocks from the heap, kept for reuse). Ignored where the C library is not glibc.
    /// </summary>
    private const string SshMallocTunables = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456";

    /// <summary>The script's first line when it runs the walker kept by an earlier capture.</summary>
    public const string KeptAnswer = "kept";

    /// <summary>The script's first line when it needs the walker sent.</summary>
    public const string SendAnswer = "send";

    // $1 = the walker's architecture, $2 = "sudo" to run it through sudo, $3 = the kept walkers' path prefix, $4 =
    // "keep" (use and keep a walker and the state cache on the client) or "nothing" (--keep-nothing: send the walker,
    // keep no state, and remove what earlier captures kept once this one is recorded); the
    // walker's SHA-256 comes on the input's first line (hashed while ssh logs in, not before it starts). The script answers "kept" or "send" on its first line; whatever can refuse the capture (the architecture, sudo)
    // is checked before, so a refusal moves no walker. A kept walker runs only when it hashes to its name ("probe ID":
    // a torn or damaged copy that would still start is sent and kept again). After "send", the input's first line
    // holds the whole dd blocks of the gzipped walker and the bytes after them (read one byte at a time by the shell:
    // nothing of the walker is taken with it). umask 077 first: the state cache the walker writes is root's alone.
    private const string Script = """
        set -e
        umask 077
        m=$(uname -m)
        [ "$m" = "$1" ] || { echo "sidus: the client is $m, and this sidus has a walker for $1 only" >&2; exit 97; }
        read -r id
        k=$3$id
        if [ "$2" != sudo ] && [ "$4" = keep ] && [ -x "$k" ] && "$k" probe "$id" </dev/null >/dev/null 2>&1; then
          echo kept
          exec "$k" capture
        fi
        run=
        keep="--keep-as $k"
        [ "$4" = keep ] || keep="--no-state --forget"
        if [ "$2" = sudo ]; then
          command -v sudo >/dev/null 2>&1 || { echo "sidus: --sudo, but the client has no sudo" >&2; exit 96; }
          e=$(sudo -n true 2>&1) || { echo "sidus: sudo refused $(id -un) without a password: $e" >&2; exit 96; }
          run="sudo -n --"
          [ "$4" != keep ] || keep=
        fi
        echo send
        read -r n r
        d=$(mktemp -d /dev/shm/sidus-walk.XXXXXXXX 2>/dev/null || mktemp -d /tmp/sidus-walk.XXXXXXXX)
        { dd bs=65536 count=$n iflag=fullblock; [ "$r" = 0 ] || dd bs=$r count=1 iflag=fullblock; } 2>/dev/null | gzip -dc > "$d/sidus-walk" ||
          { rm -rf "$d"; echo "sidus: cannot write the walker into $d (a full filesystem?)" >&2; exit 98; }
        chmod 700 "$d/sidus-walk"
        for t in /tmp /var/tmp "$HOME" ""; do
          why=$("$d/sidus-walk" probe </dev/null 2>&1 >/dev/null) && exec $run "$d/sidus-walk" capture --remove "$d" $keep
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
        // -T: the capture is a byte stream; a terminal (RequestTTY in the admin's config) would mangle it.
        var arguments = new List<string> { "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes" };
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

    /// <summary>
    /// Connects and starts the walker: the client's kept copy when it is this walker, else the one at WALKERPATH, sent.
    /// A client that has not answered within ANSWERLIMIT of ssh's start (a login, or a shell's startup file, that
    /// waits on something) is cut off.
    /// </summary>
    /// <param name="keepNothing">Leave nothing on the client: no state cache, no kept walker, and those of earlier
    /// captures removed once this one is recorded.</param>
    public static WalkerProcess Start(SshTarget target, string walkerPath, string? identity, IReadOnlyList<string> options, TimeSpan answerLimit,
        bool sudo = false, bool keepNothing = false)
    {
        var ssh = ExternalTool.Require("ssh", "openssh-client");
        byte[] program;
        try
        {
            program = File.ReadAllBytes(walkerPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"cannot read the walker {walkerPath} ({e.Message}): run ./sidus once (it builds sidus-walk next to the sidus binary)", StoreErrorKind.NotFound);
        }

        var process = WalkerProcess.Start(ssh, Arguments(target, identity, options, $"/bin/sh -c '{Script}' sidus-walk {Architecture} {(sudo ? "sudo" : "-")} {KeptWalker.PathFor("")} {(keepNothing ? "nothing" : "keep")}"),
            new Dictionary<string, string?>
            {
                ["GLIBC_TUNABLES"] = Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { Length: > 0 } set ? set + ":" + SshMallocTunables : SshMallocTunables,
            });
        // Waiting for the script's answer, then answered or cut off: whichever comes first holds.
        var state = Waiting;
        using var watch = new Timer(_ =>
        {
            if (Interlocked.CompareExchange(ref state, CutOff, Waiting) == Waiting)
            {
                process.Abort();
            }
        }, null, answerLimit, Timeout.InfiniteTimeSpan);
        try
        {
            process.ToWalker.Write(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(program)) + "\n"));
            process.ToWalker.Flush();

            // Compressed only when asked for: during the login (a quarter of a second) ssh's key exchange needs the
            // CPU, and a client that kept this walker needs no copy.
            var answer = ReadLine(process.FromWalker);
            if (Interlocked.CompareExchange(ref state, Answered, Waiting) == CutOff)
            {
                throw new IOException("cut off as it answered");
            }

            if (answer == SendAnswer)
            {
                var walker = Gzip(program);
                process.ToWalker.Write(Encoding.ASCII.GetBytes($"{walker.Length / DdBlock} {walker.Length % DdBlock}\n"));
                process.ToWalker.Write(walker);
                process.ToWalker.Flush();
                process.WalkerBytes = walker.Length;
            }
            else if (answer != KeptAnswer)
            {
                // Output before the script's own (a login shell's startup file that prints): the stream is not ours.
                process.Abort();
                process.Finish(TimeSpan.FromSeconds(10));
                process.Dispose();
                throw new StoreException(
                    $"the client's shell printed '{answer}' before the capture's script ran (a startup file such as ~/.bashrc that prints " +
                    "even when not interactive?): make it print nothing outside an interactive shell. Nothing was recorded.", StoreErrorKind.Failure);
            }
        }
        catch (IOException e) when (e is not StoreException)
        {
            // ssh or the script ended before the walker ran: their own words say why. Claimed before waiting for
            // its end, so that the watch firing meanwhile never passes an early failure off as no answer.
            var cutOff = Interlocked.CompareExchange(ref state, Answered, Waiting) == CutOff;
            var (code, errors) = process.Finish(TimeSpan.FromSeconds(30));
            process.Dispose();
            if (cutOff)
            {
                throw new StoreException(
                    $"{target} gave no answer in {answerLimit.TotalSeconds:0} s (a login, or a startup file of the client's shell, that waits?)" +
                    (errors.Trim().Length > 0 ? $"; ssh said: {errors.Trim()}" : "") +
                    $"\ncheck that 'ssh {target.Destination} true' returns at once, or give a longer --timeout. Nothing was recorded.",
                    StoreErrorKind.Failure);
            }

            throw Failed(target, code, errors);
        }

        return process;
    }

    /// <summary>The script's first line, read a byte at a time (what follows it is the walker's); IOException when
    /// the connection ends before it.</summary>
    private static string ReadLine(Stream input)
    {
        var line = new StringBuilder();
        for (int b; (b = input.ReadByte()) != '\n' && line.Length < 80;)
        {
            if (b < 0)
            {
                throw new IOException("the connection ended before the capture's script answered");
            }

            line.Append(b is >= 0x20 and < 0x7f ? (char)b : '?');
        }

        return line.ToString();
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
            SshFailure => $"ssh could not reach or log in to {target}: check that 'ssh {target.Destination}' works without a password (a key, --identity, or an agent)",
            WrongArchitecture => "capture that client with a sidus built for its architecture",
            NowhereToRun => "where they are mounted noexec, remount one of them without it for the capture (mount -o remount,exec /tmp), or log in as a user whose home allows programs",
            SudoRefused => $"give {target.User ?? "that user"} a sudo rule that asks no password (in /etc/sudoers.d/: '{target.User ?? "USER"} ALL=(root) NOPASSWD: ALL'; the walker's path is new each time), or log in as root",
            _ => "the capture stopped on the client",
        };
        return new StoreException($"{said}\n{hint}. Nothing was recorded.", StoreErrorKind.Failure);
    }

    private static byte[] Gzip(byte[] program)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(program);
        }

        return output.ToArray();
    }
}
