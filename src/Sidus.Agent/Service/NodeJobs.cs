using Sidus.Agent.Update;

namespace Sidus.Agent.Service;

/// <summary>
/// The service's half of `sidus node update` and `sidus node drift` (<see cref="NodeJob"/>): the job fetched, carried
/// out by the one update engine (<see cref="NodeUpdater"/>, as `sidus-agent update` runs it), the result posted back.
/// After a real update the node's overrides are applied again (the update left their paths alone) and the server is
/// told the version the disk now holds.
/// </summary>
internal static class NodeJobs
{
    public static async Task RunAsync(string root, HttpClient http, string server, string mac, EventReporter reporter, string? tokenFile)
    {
        NodeJob job;
        try
        {
            using var response = await http.GetAsync(server + NodeJob.Route(mac));
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                AgentConsole.Fail($"service: the job could not be fetched ({(int)response.StatusCode}): {ServerProblem.Text(text)}");
                return;
            }

            job = NodeJob.Parse(text);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            AgentConsole.Fail($"service: the job could not be fetched: {e.Message}");
            return;
        }

        if (job.Kind == NodeJob.Capture)
        {
            var (succeeded, captured) = await OverlayCapture.RunAsync(http, server, mac, job);
            AgentConsole.Say("service: capture " + (succeeded ? "sent" : "failed: " + captured));
            await AgentService.PostAsync(http, server + NodeJob.Route(mac), NodeJob.FormatResult(job.At, succeeded, captured), "the job's result");
            return;
        }

        // The engine leaves the node's override paths alone (it reads them from the layer; drift, from the last
        // sync's record); the layer is written again after a real update.
        var options = new UpdateOptions
        {
            Root = root, Server = server, Mac = mac, TokenFile = tokenFile, To = job.To, DryRun = job.DryRun, NoDelete = job.NoDelete, KeepDrift = job.KeepDrift,
            Excludes = job.Excludes ?? [], Say = line => AgentConsole.Say("update: " + line),
        };
        AgentConsole.Say($"service: {job.Kind}" + (job.To is null ? string.Empty : $" to {job.ToRef}") + (job.DryRun ? " (dry run)" : string.Empty));
        var result = job.Kind == NodeJob.Drift ? NodeUpdater.Drift(options) : await NodeUpdater.RunAsync(options, CancellationToken.None);
        var reboot = false;
        if (job.Kind == NodeJob.Update && !job.DryRun && result.Problem is null)
        {
            reboot = job.Reboot && result.RebootNeeded;
            if (reboot && root != "/")
            {
                AgentConsole.Say($"update: not rebooting: {root} is not the running root");
                reboot = false;
            }

            result = result with { Rebooting = reboot };
            // The update wrote "?" as the name when given an id: the job names it.
            if (job.ToRef is { } name && result.Version is { } id)
            {
                AtomicFile.WriteText(Path.Combine(root, InstalledNode.VersionFile.TrimStart('/')), new NodeVersion(id, name).Format());
                result = result with { Ref = name };
            }

            AgentConsole.Say("update: overrides " + await AgentService.ApplyOverridesAsync(root, http, reporter));
            await AgentService.PostAsync(http, server + InstallPlan.Installed(mac), InstallPlan.FormatDone(true, result.Version!), "the new version");
            await reporter.ReportAsync(NodeEventStages.Root, $"updated to {result.Ref}: {result.Created} created, {result.Updated} updated, {result.Deleted} deleted" +
                (result.RebootNeeded ? "; reboot needed: " + string.Join(", ", result.RebootReasons) : string.Empty));
        }

        var json = result.ToJson();
        if (json.Length > NodeJob.MaxResultLength)
        {
            // A drift list too long to keep: its first paths, and how many there were.
            var kept = result.Drift.Take(500).ToList();
            json = (result with { Drift = kept, Problem = result.Problem ?? null }).ToJson();
            AgentConsole.Say($"service: the drift list ({result.Drift.Count} paths) was cut to its first {kept.Count} for the server");
        }

        await AgentService.PostAsync(http, server + NodeJob.Route(mac), NodeJob.FormatResult(job.At, result.Problem is null, json), "the job's result");
        if (reboot)
        {
            await RebootAsync(reporter, result);
        }
    }

    /// <summary>
    /// A clean reboot through systemd (units stopped, filesystems unmounted), asked once the result is sent; the
    /// node's next "up" report says which version it came up with.
    /// </summary>
    private static async Task RebootAsync(EventReporter reporter, NodeUpdateResult result)
    {
        var why = string.Join(", ", result.RebootReasons);
        AgentConsole.Say($"update: rebooting into {result.Ref}: {why}");
        await reporter.ReportAsync(NodeEventStages.Root, $"rebooting into {result.Ref}: {why}");
        var run = ProcessRunner.Run("systemctl", ["reboot"], "systemd", TimeSpan.FromMinutes(1));
        if (run.ExitCode != 0)
        {
            var said = (run.Errors + run.Output).Trim();
            AgentConsole.Fail($"update: systemctl reboot failed ({run.ExitCode}): {said}");
            await reporter.ReportAsync(NodeEventStages.Failed, $"the update to {result.Ref} is complete, but systemctl reboot failed ({run.ExitCode}): {said}; reboot the node by hand");
        }
    }
}
