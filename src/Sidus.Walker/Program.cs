using Sidus.Store.Capture;

// sidus-walk: the golden client's side of `sidus image capture` (docs/capture.md). The server sends it over ssh and
// starts it as "capture --remove DIR"; it deletes DIR (its own copy) at once, reads the server's request on standard
// input and answers on standard output. "probe": exits 0 when this system can run it (the script tries each
// temporary directory so); "probe SHA256": and when this program hashes to it (a kept copy is whole). --root and
// --state point it at any directory, for tests and benchmarks.
const string usage = """
    Usage: sidus-walk capture [--root DIR] [--state FILE | --no-state] [--remove DIR]
                             [--keep-as FILE | --forget]
           sidus-walk probe [SHA256]

    The golden client's side of `sidus image capture`: started by the server over ssh, it reads the
    server's request on standard input and sends the tree, then the contents the server lacks, on
    standard output.

      --root DIR     the tree to capture (default /)
      --state FILE   the state cache that lets a recapture hash only changed files
                     (default ROOT/var/lib/sidus/capture.state: every capture excludes /var/lib/sidus)
      --no-state     hash every file, keep no state cache
      --remove DIR   delete DIR (the walker's temporary copy) before anything else
      --keep-as FILE once the server has recorded the capture, copy this walker to FILE
                     (named sidus-walk-ID, beside the state cache) for the next capture,
                     and remove the other walkers kept there
      --forget       once the server has recorded the capture, remove the state cache
                     and the walkers earlier captures kept, and their directory if
                     nothing else is in it (with --no-state: nothing is left behind)
    """;

switch (args)
{
    case ["probe"]:
        return 0;
    case ["probe", var id]:
        Sidus.Walker.LinkedSha256.Use();
        return KeptWalker.IsWhole("/proc/self/exe", id) ? 0 : 1;
    case ["capture", .. var options]:
        return Capture(options);
    case ["--help" or "-h"]:
        Console.Out.Write(usage);
        return 0;
    default:
        Console.Error.Write(usage);
        return 2;
}

static int Capture(string[] options)
{
    var root = "/";
    string? state = null;
    var keepState = true;
    string? keepAs = null;
    var forget = false;
    for (var i = 0; i < options.Length; i++)
    {
        switch (options[i])
        {
            case "--root" when i + 1 < options.Length:
                root = options[++i];
                break;
            case "--state" when i + 1 < options.Length:
                state = options[++i];
                break;
            case "--no-state":
                keepState = false;
                break;
            case "--keep-as" when i + 1 < options.Length:
                keepAs = options[++i];
                break;
            case "--forget":
                forget = true;
                break;
            case "--remove" when i + 1 < options.Length:
                RemoveOwnCopy(options[++i]);
                break;
            default:
                Console.Error.WriteLine($"sidus-walk: unknown option {options[i]} (see sidus-walk --help)");
                return 2;
        }
    }

    Sidus.Walker.LinkedSha256.Use();
    state ??= Path.Combine(root, CaptureWalker.DefaultStatePath.TrimStart('/'));
    using var input = Console.OpenStandardInput();
    using var output = Console.OpenStandardOutput();
    var walker = new CaptureWalker(input, output, root, keepState ? state : null, Console.Error)
    {
        AfterRecorded = keepAs is not null ? () => KeptWalker.Keep("/proc/self/exe", keepAs, Console.Error)
            : forget ? () => KeptWalker.Forget(state, Console.Error)
            : null,
    };
    return walker.Run(CancellationToken.None);
}

// The script made DIR for the walker alone (mktemp -d): the running program needs its file no more.
static void RemoveOwnCopy(string dir)
{
    if (!Path.GetFileName(dir.TrimEnd('/')).StartsWith("sidus-walk.", StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"sidus-walk: --remove {dir}: not a directory the capture made; left alone");
        return;
    }

    try
    {
        File.Delete(Path.Combine(dir, "sidus-walk"));
        Directory.Delete(dir);
    }
    catch (IOException e)
    {
        Console.Error.WriteLine($"sidus-walk: cannot remove {dir}: {e.Message}");
    }
}
