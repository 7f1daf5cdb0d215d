namespace Sidus.Agent.Boot;

/// <summary>
/// The per-node layer written over the fetched root before it boots. The server makes it (hostname, hosts,
/// machine-id, SSH host keys, the "up" unit, the site's override trees): GET <see cref="NodeRoutes.Overrides"/>,
/// retried with backoff, extracted by <see cref="OverrideExtractor"/>. When the server cannot be reached or refuses,
/// the agent still writes the hostname and the "up" unit itself, so the node boots and says so.
/// </summary>
internal static class Overrides
{
    public const string AgentCopy = "/run/sidus/agent";

    /// <summary>Largest layer accepted: configuration files and keys, not payloads.</summary>
    public const int MaxArchiveBytes = 64 << 20;

    private const int Attempts = 6;

    public static async Task ApplyAsync(string root, AgentKernelArguments line, HttpClient http, EventReporter reporter)
    {
        // The name the boot script gave is the baseline; a layer's own /etc/hostname wins over it.
        WriteHostname(root, line);
        var tar = await FetchAsync(http, reporter);
        if (tar is null)
        {
            WriteFallback(root, line);
            return;
        }

        var result = OverrideExtractor.Extract(new MemoryStream(tar, writable: false), root);
        foreach (var refused in result.Refused)
        {
            AgentConsole.Fail("override refused: " + refused);
        }

        var detail = $"overrides: {result.Written} files" + (result.Refused.Count > 0 ? $", {result.Refused.Count} refused" : string.Empty) + $" (image={line.Image})";
        AgentConsole.Say(detail);
        await reporter.ReportAsync(new NodeEvent(result.Refused.Count > 0 ? NodeEventStages.Failed : NodeEventStages.Root, detail) { Image = line.Image });
    }

    public static async Task<byte[]?> FetchAsync(HttpClient http, EventReporter reporter)
    {
        var url = reporter.Server + NodeRoutes.Overrides(reporter.Mac!);
        var backoff = new Backoff(2, 30);
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            string why;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    if (response.Content.Headers.ContentLength is > MaxArchiveBytes)
                    {
                        why = $"the layer is larger than {MaxArchiveBytes} bytes";
                    }
                    else
                    {
                        return await response.Content.ReadAsByteArrayAsync(timeout.Token);
                    }
                }
                else
                {
                    var text = (await response.Content.ReadAsStringAsync(timeout.Token)).Trim();
                    why = $"{(int)response.StatusCode}: {ServerProblem.Text(text)}";
                    if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
                    {
                        // The server decided: asking again will not change its mind.
                        return await GiveUpAsync(reporter, why);
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                why = e.Message;
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"overrides from {url} failed (attempt {attempt}/{Attempts}): {why}; trying again in {wait.TotalSeconds:F0} s");
            await Task.Delay(wait);
        }

        return await GiveUpAsync(reporter, $"no answer after {Attempts} attempts");
    }

    private static async Task<byte[]?> GiveUpAsync(EventReporter reporter, string why)
    {
        AgentConsole.Fail($"no override layer ({why}): booting with the hostname and the 'up' unit only");
        await reporter.ReportAsync(NodeEventStages.Failed, "overrides: " + why);
        return null;
    }

    /// <summary>The minimum without the server's layer: /etc/hostname and the unit that reports "up".</summary>
    private static void WriteFallback(string root, AgentKernelArguments line)
    {
        WriteHostname(root, line);

        var units = Path.Combine(root, "etc/systemd/system");
        var wants = Path.Combine(units, "multi-user.target.wants");
        Directory.CreateDirectory(wants);
        File.WriteAllText(Path.Combine(units, "sidus-up.service"), new StringBuilder()
            .Append("[Unit]\nDescription=Sidus: report that this node is up\nAfter=basic.target\n\n")
            .Append("[Service]\nType=oneshot\nExecStart=").Append(AgentCopy).Append(" report up\n")
            .Append("StandardOutput=journal+console\n")
            .ToString());
        var link = Path.Combine(wants, "sidus-up.service");
        if (!File.Exists(link))
        {
            File.CreateSymbolicLink(link, "../sidus-up.service");
        }
    }

    private static void WriteHostname(string root, AgentKernelArguments line)
    {
        if (line.Hostname is { Length: > 0 } hostname)
        {
            File.WriteAllText(Path.Combine(root, "etc/hostname"), hostname + "\n");
        }
    }

    /// <summary>Keeps this binary where the booted system finds it (/run survives the switch).</summary>
    public static void KeepAgent()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(AgentCopy)!);
        File.Copy("/init", AgentCopy, overwrite: true);
        File.SetUnixFileMode(AgentCopy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }
}
