using Sidus.Agent.Boot;

namespace Sidus.Agent.Service;

/// <summary>
/// "service": the agent as the booted system's long-running sidus-agent unit. It waits on the server for the
/// admin's requests (<see cref="NodeRequests"/>) with this boot's session and carries them out; today the one request
/// is "apply your overrides again" (`sidus node apply-overrides`): the layer is fetched as at boot and written over
/// the running root, each file beside its target and renamed over it, and the result is posted back.
/// </summary>
internal static class AgentService
{
    /// <summary>Longer than the server holds a poll, so a held poll is never taken for a dead server.</summary>
    private static readonly TimeSpan PollTimeout = NodeRequests.Wait + TimeSpan.FromSeconds(20);

    public static async Task<int> RunAsync(string root, string? server = null, string? mac = null, string? session = null)
    {
        var line = KernelCommandLine.Read();
        server ??= line.Server;
        if (server is null)
        {
            AgentConsole.Fail($"no {AgentKernelArguments.Names.Server}= on the kernel command line: there is no server to wait on");
            return 1;
        }

        mac ??= (await AgentMain.FindInterfaceAsync(line.Mac)).Mac;
        using var http = AgentMain.NewHttpClient();
        if (session is not null)
        {
            AgentSession.Load(session);
            AgentSession.Use(http);
        }

        http.Timeout = Timeout.InfiniteTimeSpan;
        var reporter = new EventReporter(http) { Server = server, Mac = mac };
        AgentConsole.Say($"service: waiting on {server} for requests to {mac}");
        long? seen = null;
        var backoff = new Backoff(2, 60);
        while (true)
        {
            string problem;
            try
            {
                using var timeout = new CancellationTokenSource(PollTimeout);
                using var response = await http.GetAsync(server + NodeRequests.Poll(mac, seen), timeout.Token);
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
                {
                    // Revoked, or no longer a node: nothing this boot can fix. systemd starts the service again later.
                    AgentConsole.Fail($"service: the server refused ({(int)response.StatusCode}): {ServerProblem.Text(text)}");
                    return 1;
                }

                if (response.IsSuccessStatusCode && NodeRequests.TryParsePoll(text, out var kind, out var at))
                {
                    backoff = new Backoff(2, 60);
                    if (kind == NodeRequests.Overrides && seen is not null)
                    {
                        await AnswerAsync(http, server, mac, at, await ApplyOverridesAsync(root, http, reporter));
                    }
                    else if (kind == NodeRequests.Job && seen is not null)
                    {
                        await NodeJobs.RunAsync(root, http, server, mac, reporter, session);
                    }

                    seen = at;
                    continue;
                }

                problem = $"{(int)response.StatusCode}: {text.Trim()}";
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                problem = e.Message;
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"service: {server} did not answer ({problem}); asking again in {wait.TotalSeconds:F0} s");
            await Task.Delay(wait);
        }
    }

    /// <summary>Fetches the layer and writes it over ROOT; gives the result line for the server.</summary>
    public static async Task<string> ApplyOverridesAsync(string root, HttpClient http, EventReporter reporter)
    {
        var tar = await Overrides.FetchAsync(http, reporter);
        if (tar is null)
        {
            return "failed: the layer could not be fetched (see the node's events)";
        }

        var result = OverrideExtractor.Extract(new MemoryStream(tar, writable: false), root);
        foreach (var refused in result.Refused)
        {
            AgentConsole.Fail("override refused: " + refused);
        }

        var line = result.Refused.Count == 0
            ? $"applied: {result.Written} files"
            : $"failed: {result.Written} files written, {result.Refused.Count} refused (first: {result.Refused[0]})";
        AgentConsole.Say("overrides " + line);
        return line;
    }

    private static Task AnswerAsync(HttpClient http, string server, string mac, long request, string result) =>
        PostAsync(http, server + NodeRequests.Answer(mac), NodeRequests.FormatAnswer(request, result), "the result");

    /// <summary>
    /// POSTs BODY (text/plain) to URL, five tries with backoff when the server does not answer or fails (a 4xx is an
    /// answer: it is not asked again); WHAT names it in the console's complaint.
    /// </summary>
    public static async Task PostAsync(HttpClient http, string url, string body, string what)
    {
        var backoff = new Backoff(1, 10);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var content = new StringContent(body, Encoding.UTF8, "text/plain");
                using var response = await http.PostAsync(url, content, timeout.Token);
                if (response.IsSuccessStatusCode || (int)response.StatusCode is >= 400 and < 500)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                AgentConsole.Fail($"service: could not give {what} to {url}: {e.Message}");
            }

            await backoff.WaitAsync();
        }
    }
}
