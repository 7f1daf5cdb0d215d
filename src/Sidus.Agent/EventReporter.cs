using System.Text;

namespace Sidus.Agent;

/// <summary>
/// Posts boot events to the server: POST {server}/api/nodes/{mac}/events with {"stage":"...","detail":"..."}.
/// Stages: "agent" (driver load, lease), "root" (fetching and laying out the root), "failed" (what went wrong;
/// the agent keeps retrying), "up" (from the booted system). Events raised before the network is up are queued and
/// sent with the first one after. A report never throws and never waits more than a few seconds: reporting must not
/// stop a boot.
/// </summary>
internal sealed class EventReporter(HttpClient http)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);
    private readonly List<(string Stage, string Detail)> _pending = [];

    /// <summary>One report at a time: the watcher reports from several threads (its own, the ram copy, the kernel
    /// log), and the queue keeps events in order.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string? Server { get; set; }
    public string? Mac { get; set; }

    public async Task ReportAsync(string stage, string detail)
    {
        await _gate.WaitAsync();
        try
        {
            _pending.Add((stage, detail));
            if (Server is null || Mac is null)
            {
                return;
            }

            while (_pending.Count > 0)
            {
                var (s, d) = _pending[0];
                if (!await PostAsync(s, d))
                {
                    return;
                }

                _pending.RemoveAt(0);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> PostAsync(string stage, string detail)
    {
        var body = $"{{\"stage\":{Json(stage)},\"detail\":{Json(detail)}}}";
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync($"{Server}/api/nodes/{Mac}/events", content, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                AgentConsole.Say($"the server answered {(int)response.StatusCode} to a '{stage}' event (ignored)");
            }

            return true;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            AgentConsole.Say($"could not report '{stage}' to {Server}: {e.Message} (will resend with the next event)");
            return false;
        }
    }

    /// <summary>A JSON string literal: quotes, backslashes and control characters escaped.</summary>
    public static string Json(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                < ' ' => sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)),
                _ => sb.Append(c),
            };
        }

        return sb.Append('"').ToString();
    }
}
