using System.IO.Pipes;
using Sidus.Store.Capture;

namespace Sidus.Agent.Service;

/// <summary>
/// The node's half of `sidus node capture` (docs/capture.md, "A diskless node's changes"): the upper layer of the
/// root's overlay (tmpfs or disk: every file the node changed, whiteouts for what it deleted) walked by the capture
/// walker in its one-way form (tree, then every content) and streamed to the server, which lays it over the version
/// the node booted. The server's answer is the job's result.
/// </summary>
internal static class OverlayCapture
{
    public static async Task<(bool Succeeded, string Result)> RunAsync(HttpClient http, string server, string mac, NodeJob job)
    {
        var upper = UpperDirectory(File.ReadAllText("/proc/self/mountinfo"));
        if (upper is null)
        {
            return (false, "this node's root is not an overlay (a shared-mode node's is): there are no changes to capture");
        }

        AgentConsole.Say($"service: capture of {upper}" + (job.DryRun ? " (dry run)" : string.Empty));
        var request = new MemoryStream();
        // The default excludes are not even sent (a journal can be large); the server applies them again, with the
        // image's list and the node's override files: what a version holds is its decision, not the node's.
        CaptureProtocol.WriteRequest(request, new CaptureRequest([.. CaptureExcludes.Defaults.Select(d => d.Path)], job.DryRun, SendAll: true));
        request.Position = 0;
        using var toServer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var body = new AnonymousPipeClientStream(PipeDirection.In, toServer.ClientSafePipeHandle);
        var errors = new StringWriter();
        var walk = Task.Run(() =>
        {
            try
            {
                return new CaptureWalker(request, toServer, upper, statePath: null, errors).Run(CancellationToken.None);
            }
            finally
            {
                toServer.Dispose(); // the body ends with the walk
            }
        });
        try
        {
            using var content = new StreamContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using var response = await http.PostAsync(server + NodeJob.CaptureRoute(mac, job.At), content);
            var answer = await response.Content.ReadAsStringAsync();
            var code = await walk;
            var walkerSaid = errors.ToString().Trim();
            return response.IsSuccessStatusCode && code == 0
                ? (true, answer)
                : (false, $"{ServerProblem.Text(answer)} {walkerSaid}".Trim());
        }
        catch (HttpRequestException e)
        {
            await walk;
            return (false, $"the overlay could not be sent: {e.Message} {errors.ToString().Trim()}".Trim());
        }
    }

    /// <summary>The upper directory of the overlay mounted at / (from MOUNTINFO's super options), or null.</summary>
    public static string? UpperDirectory(string mountinfo)
    {
        foreach (var line in mountinfo.Split('\n'))
        {
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length > 4 && fields[4] == "/" && separator > 4 && fields.Length > separator + 3 && fields[separator + 1] == "overlay")
            {
                var option = fields[separator + 3].Split(',').FirstOrDefault(o => o.StartsWith("upperdir=", StringComparison.Ordinal));
                if (option is not null)
                {
                    return option["upperdir=".Length..];
                }
            }
        }

        return null;
    }
}
