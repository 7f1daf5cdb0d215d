namespace Sidus.Agent;

/// <summary>
/// Posts boot events to the server: a <see cref="NodeEvent"/> to <see cref="NodeRoutes.Events"/>, with a stage of
/// <see cref="NodeEventStages"/>. Events raised before the network is up are queued and
/// sent with the first one after. A report never throws and never waits more than a few seconds: reporting must not
/// stop a boot.
/// </summary>
internal sealed class EventReporter(HttpClient http)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);
    private readonly List<NodeEvent> _pending = [];

    /// <summary>One report at a time: the watcher reports from several threads (its own, the ram copy, the kernel
    /// log), and the queue keeps events in order.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string? Server { get; set; }
    public string? Mac { get; set; }

    public Task ReportAsync(string stage, string detail) => ReportAsync(new NodeEvent(stage, detail));

    public async Task ReportAsync(NodeEvent report)
    {
        await _gate.WaitAsync();
        try
        {
            _pending.Add(report);
            if (Server is null || Mac is null)
            {
                return;
            }

            while (_pending.Count > 0)
            {
                if (!await PostAsync(_pending[0]))
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

    private async Task<bool> PostAsync(NodeEvent report)
    {
        var stage = report.Stage;
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            using var content = new StringContent(report.ToJson(), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(Server + NodeRoutes.Events(Mac!), content, timeout.Token);
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
}
