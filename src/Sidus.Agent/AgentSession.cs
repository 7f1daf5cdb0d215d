using System.Net.Http;
using System.Net.Http.Headers;
using Sidus.Agent.Boot;

namespace Sidus.Agent;

/// <summary>
/// The node's credential (<see cref="NodeCredentials"/>, docs/node-access.md). Once the network is up the agent
/// claims a session with the boot's ticket from the kernel command line (which every local user can read: once
/// claimed it opens nothing), and keeps the session in memory and in <see cref="DefaultPath"/>, root's only, for what
/// runs after switch_root (switch_root moves /run into the booted system): the NBD watcher, the ram copy, "report".
/// Every request then carries it: HTTP as Authorization: Bearer, NBD inside the export name.
/// </summary>
internal static class AgentSession
{
    public const string DefaultPath = "/run/sidus/session";
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromSeconds(10);

    public static string? Current { get; private set; }

    /// <summary>The session kept by an earlier step of this boot, or an installed node's key, or null.</summary>
    public static string? Load(string path = DefaultPath)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            Current = NodeCredentials.IsWellFormed(text) ? text : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // An installed node has no boot session: it speaks with its key (Install/Installer.cs writes it).
            Current = path == DefaultPath && File.Exists(InstalledNode.KeyFile) && File.ReadAllText(InstalledNode.KeyFile).Trim() is var key &&
                      NodeCredentials.IsWellFormed(key) ? key : null;
        }

        return Current;
    }

    /// <summary>Exchanges TICKET for a session at SERVER, keeps it, and has HTTP carry it. Network failures are
    /// retried with backoff; a refusal (a second claim, a revoked node) stops the boot with the server's reason.</summary>
    public static async Task ClaimAsync(HttpClient http, string server, string ticket, string path = DefaultPath)
    {
        var backoff = new Backoff(1, 30);
        while (true)
        {
            string problem;
            try
            {
                using var timeout = new CancellationTokenSource(ClaimTimeout);
                using var body = new StringContent(ticket, Encoding.ASCII, "text/plain");
                using var response = await http.PostAsync(server + NodeRoutes.Claim, body, timeout.Token);
                var text = (await response.Content.ReadAsStringAsync(timeout.Token)).Trim();
                if (response.IsSuccessStatusCode && NodeCredentials.IsWellFormed(text))
                {
                    Keep(text, path);
                    Use(http);
                    return;
                }

                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    throw new UnbootableException($"the server refused this boot's ticket ({(int)response.StatusCode}): {ServerProblem.Text(text)}");
                }

                problem = $"the server answered {(int)response.StatusCode} to the claim: {text}";
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                problem = $"cannot reach {server} to claim the boot's session: {e.Message}";
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"{problem}; trying again in {wait.TotalSeconds:F0} s");
            await Task.Delay(wait);
        }
    }

    /// <summary>Has every request of HTTP carry the session (when there is one).</summary>
    public static void Use(HttpClient http)
    {
        if (Current is { } session)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(NodeCredentials.Scheme, session);
        }
    }

    /// <summary>The NBD export name for EXPORT: with the session when there is one.</summary>
    public static string NbdName(string export) => Current is { } session ? NodeCredentials.ExportName(export, session) : export;

    /// <summary>Written mode 0600 under a temporary name, then renamed into place.</summary>
    private static void Keep(string session, string path)
    {
        Current = session;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + AtomicFile.TemporarySuffix;
        File.Delete(temporary);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(session + "\n"));
        }

        File.Move(temporary, path, overwrite: true);
    }
}
