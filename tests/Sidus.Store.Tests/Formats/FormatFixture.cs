using System.Diagnostics;
using Sidus.Store;

namespace Sidus.Store.Tests.Formats;

/// <summary>
/// A scratch directory with a store, a real source tree holding every kind of file and metadata (built with the
/// system's own tools), and helpers that run real programs (GNU tar, rsync, cpio, unsquashfs...) with timeouts.
/// </summary>
public sealed class FormatFixture : IDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(3);

    public FormatFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), $"sidus-formats-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
        Repository = Repository.Open(Path.Combine(Root, "home"));
        Images = new ImageStore(Repository);
    }

    public string Root { get; }
    public Repository Repository { get; }
    public ImageStore Images { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>
    /// Builds ROOT/NAME with regular, empty, big and sparse files, setuid/setgid/sticky bits, foreign owners (one
    /// beyond the 7-digit octal range), nanosecond mtimes, user.* and security.capability xattrs, ACLs, hard links,
    /// symlinks, devices, a fifo, names over 100 bytes, a path over 255 bytes and names that are not UTF-8.
    /// </summary>
    public string BuildTree(string name = "src")
    {
        var dir = PathOf(name);
        Directory.CreateDirectory(dir);
        const string script = """
            set -e
            cd "$1"
            echo hello > small
            : > empty
            head -c 3000000 /dev/urandom > big
            truncate -s 20M sparse
            printf data | dd of=sparse bs=1 seek=10000000 conv=notrunc status=none
            printf x > suid; chmod 4755 suid
            mkdir sgid; chmod 2775 sgid
            mkdir sticky; chmod 1777 sticky
            echo own > owned; chown 1234:5678 owned
            echo big-ids > bigids; chown 3000000:4000000 bigids
            echo caps > capfile; setcap cap_net_raw+ep capfile
            setfattr -n user.comment -v 0sAAEC/w== capfile
            echo acl > aclfile; setfacl -m u:1234:rx,g:55:r aclfile
            mkdir acldir; setfacl -m u:4321:rx acldir; setfacl -d -m u:1234:rwx acldir
            echo link > hl1; ln hl1 hl2; ln hl1 sgid/hl3
            ln -s small rel-link; ln -s /etc/passwd abs-link; ln -s nowhere dangling
            mknod chr c 1 3; mknod blk b 7 0; mkfifo fifo
            long=$(printf 'n%.0s' $(seq 200)); echo long > "$long"
            d1=$(printf 'a%.0s' $(seq 100)); d2=$(printf 'b%.0s' $(seq 100)); d3=$(printf 'c%.0s' $(seq 100))
            mkdir -p "$d1/$d2/$d3"; echo deep > "$d1/$d2/$d3/file-$(printf 'd%.0s' $(seq 120))"
            echo bad > $'bad\xff\xfename'
            mkdir $'dir\xc3'; echo inside > $'dir\xc3/f'
            ln -s $'target\xff' $'sym\xfe'
            find . -depth -exec touch -h -d '2021-02-03 04:05:06.123456789' {} +
            touch -d '1999-12-31 23:59:59.5' small
            touch -d '2030-01-01 00:00:00.000000001' big
            touch -h -d '2021-02-03 04:05:06.987654321' .
            """;
        Run("bash", "-c", script, "build", dir);
        return dir;
    }

    /// <summary>Runs a program; a non-zero exit or a timeout fails the test with its output.</summary>
    public static string Run(string program, params string[] args) => RunIn(null, program, args).Stdout;

    public static (int Exit, string Stdout, string Stderr) RunIn(string? directory, string program, string[] args, bool check = true)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (directory is not null)
        {
            info.WorkingDirectory = directory;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ToolTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {ToolTimeout}");
        }

        var result = (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.Item3}{result.Item2}");
        }

        return result;
    }

    /// <summary>What rsync would change to make B equal to A (checksums, hard links, ACLs, xattrs); empty when equal.</summary>
    public static string Differences(string a, string b, params string[] extra)
    {
        string[] args = ["-naHAXc", "--numeric-ids", "--delete", "-i", .. extra, a + "/", b + "/"];
        return RunIn(null, "rsync", args).Stdout.Trim();
    }

    /// <summary>Allocated bytes of a file (holes take none).</summary>
    public static long Allocated(string file) => long.Parse(Run("stat", "-c", "%b", file).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;

    public void Dispose()
    {
        Repository.Dispose();
        RunIn(null, "rm", ["-rf", "--one-file-system", Root], check: false);
    }
}
