using System.Diagnostics;

namespace Sidus.Testing;

/// <summary>
/// Starts a program with the signals tests send (SIGHUP: reload, SIGINT: Ctrl-C, SIGQUIT) at their defaults, as
/// under systemd or a terminal: a suite started by nohup or as a script's background job has them ignored, children
/// inherit that, and the .NET runtime keeps an ignored signal ignored. `env` execs the program: the pid is its own.
/// </summary>
public static class DefaultSignals
{
    /// <summary>Rewrites INFO (its file and arguments set) to run through `env --default-signal`.</summary>
    public static void Apply(ProcessStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        info.ArgumentList.Insert(0, info.FileName);
        info.ArgumentList.Insert(0, "--default-signal=HUP,INT,QUIT");
        info.FileName = "env";
    }
}
