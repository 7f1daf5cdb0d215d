using Sidus.Store.Import;

namespace Sidus.Store.Build;

/// <summary>What `sidus image build` asks debootstrap for.</summary>
public sealed record BuildRequest(string Suite, string Mirror, IReadOnlyList<string> Include, string Variant, string Architecture);

/// <summary>
/// Builds a Debian/Ubuntu root tree with debootstrap in private mount namespace (its /proc and /sys mounts cannot
/// outlive it).
/// </summary>
public static class Debootstrap
{
    public const string DefaultMirror = "http://deb.debian.org/debian";

    /// <summary>Builds into TARGET; debootstrap's output goes to LOG_PATH (kept when it fails) and PROGRESS.</summary>
    public static async Task BuildAsync(BuildRequest request, string target, string logPath, IProgress<TransferProgress>? progress,
        CancellationToken cancellation)
    {
        var unshare = ExternalTool.Require("unshare", "util-linux");
        var debootstrap = ExternalTool.Require("debootstrap", "debootstrap");
        var arguments = new List<string> { "--mount", "--propagation", "private", "--", debootstrap };
        if (!string.IsNullOrEmpty(request.Variant))
        {
            arguments.Add($"--variant={request.Variant}");
        }

        if (request.Include.Count > 0)
        {
            arguments.Add("--include=" + string.Join(',', request.Include));
        }

        arguments.Add($"--arch={request.Architecture}");
        arguments.AddRange([request.Suite, target, request.Mirror]);
        int code;
        using (var log = new DebootstrapLog(logPath, progress))
        {
            code = await ExternalTool.RunLineByLineAsync(unshare, arguments, log.Add, cancellation);
            if (code != 0)
            {
                throw new StoreException(
                    $"debootstrap failed with exit code {code}; its last lines:\n{log.Tail}\n"
                    + $"its whole output: {logPath} (kept until the next build); check the suite name, the mirror ({request.Mirror}) "
                    + "and the network; nothing was stored",
                    StoreErrorKind.Failure);
            }
        }

        File.Delete(logPath);
    }

    public static string HostArchitecture() => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.X86 => "i386",
        System.Runtime.InteropServices.Architecture.Arm => "armhf",
        var other => other.ToString().ToLowerInvariant(),
    };
}
