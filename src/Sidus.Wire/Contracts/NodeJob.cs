namespace Sidus.Wire.Contracts;

/// <summary>
/// A job the admin gives a node's agent service (docs/installed-nodes.md, docs/capture.md): bring an installed node's
/// disk to a version (`sidus node update`), report what changed on it since (`sidus node drift`), or send a
/// shared-mode node's overlay to the server (`sidus node capture`: the agent POSTs it to <see cref="CaptureTemplate"/>
/// and reports the server's answer). The service learns of it from its
/// held poll (<see cref="NodeRequests"/>: <c>job MS</c>), GETs <see cref="Template"/> for this text, carries it out
/// and POSTs <c>MS</c> then its result (<see cref="FormatResult"/>) to the same route. One line per setting, each
/// value escaped as a URI component:
/// <code>
/// sidus-job 1
/// kind update          (update | drift | capture)
/// at 1733200000000     (the request, Unix ms: the answer names it)
/// to HEX IMAGE@SEQ     (update: the version to bring the disk to)
/// dry-run              (update, capture: list every change, make none)
/// into IMAGE           (capture: the image the new version goes to; default the one the node booted)
/// no-delete            (update: leave files the version does not have)
/// keep-drift           (update: leave files changed on the node as they are)
/// reboot               (update: reboot the node once the update is complete and reported, when it needs one)
/// exclude /opt/local   (update: one line per path the update leaves alone, besides the defaults)
/// </code>
/// </summary>
public sealed record NodeJob(string Kind, long At, string? To = null, string? ToRef = null, bool DryRun = false, bool NoDelete = false, bool KeepDrift = false,
    IReadOnlyList<string>? Excludes = null, string? Into = null, bool Reboot = false)
{
    public const string Template = "/api/nodes/{mac}/requests/job";

    /// <summary>Where a capture job's agent POSTs its overlay (the capture walker's send-all stream), ?at=MS naming the job.</summary>
    public const string CaptureTemplate = "/api/nodes/{mac}/requests/capture";
    public const string Update = "update";
    public const string Drift = "drift";
    public const string Capture = "capture";

    /// <summary>Largest result the server keeps (a drift list is cut there, its count kept).</summary>
    public const int MaxResultLength = 64 * 1024;

    private const string Header = "sidus-job 1";

    public static string Route(string mac) => Template.Replace("{mac}", mac, StringComparison.Ordinal);

    public static string CaptureRoute(string mac, long at) =>
        CaptureTemplate.Replace("{mac}", mac, StringComparison.Ordinal) + "?at=" + at.ToString(CultureInfo.InvariantCulture);

    public string Format()
    {
        var text = new StringBuilder(Header).Append('\n');
        text.Append("kind ").Append(Kind).Append('\n');
        text.Append("at ").Append(At.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (To is not null)
        {
            text.Append("to ").Append(To).Append(' ').Append(Uri.EscapeDataString(ToRef ?? "-")).Append('\n');
        }

        text.Append(DryRun ? "dry-run\n" : string.Empty).Append(NoDelete ? "no-delete\n" : string.Empty).Append(KeepDrift ? "keep-drift\n" : string.Empty)
            .Append(Reboot ? "reboot\n" : string.Empty);
        if (Into is not null)
        {
            text.Append("into ").Append(Uri.EscapeDataString(Into)).Append('\n');
        }

        foreach (var path in Excludes ?? [])
        {
            text.Append("exclude ").Append(Uri.EscapeDataString(path)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Reads <see cref="Format"/>'s text; anything else throws <see cref="FormatException"/>.</summary>
    public static NodeJob Parse(string text)
    {
        var lines = (text ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0].Trim() != Header)
        {
            throw new FormatException($"not a '{Header}' text");
        }

        var job = new NodeJob(string.Empty, 0);
        var excludes = new List<string>();
        foreach (var line in lines.Skip(1))
        {
            var parts = line.Trim().Split(' ');
            job = parts switch
            {
                ["kind", Update or Drift or Capture] => job with { Kind = parts[1] },
                ["into", var image] => job with { Into = Uri.UnescapeDataString(image) },
                ["at", var ms] when long.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var at) => job with { At = at },
                ["to", var hex, var name] when hex.Length == 64 && hex.All(char.IsAsciiHexDigitLower) => job with { To = hex, ToRef = Uri.UnescapeDataString(name) },
                ["dry-run"] => job with { DryRun = true },
                ["no-delete"] => job with { NoDelete = true },
                ["keep-drift"] => job with { KeepDrift = true },
                ["reboot"] => job with { Reboot = true },
                ["exclude", var path] => Add(excludes, Uri.UnescapeDataString(path), job),
                _ => throw new FormatException($"job line '{line}' is not understood"),
            };
        }

        if (job.Kind.Length == 0 || job.At <= 0 || (job.Kind == Update && job.To is null))
        {
            throw new FormatException("a job needs its kind, its time and, to update, the version");
        }

        return job with { Excludes = excludes };

        static NodeJob Add(List<string> list, string path, NodeJob job)
        {
            list.Add(path);
            return job;
        }
    }

    /// <summary>The answer's body: the request's time, then whether it succeeded, then the result (JSON of the agent's report, or a message).</summary>
    public static string FormatResult(long at, bool succeeded, string result) =>
        $"{at.ToString(CultureInfo.InvariantCulture)} {(succeeded ? "ok" : "failed")}\n{result}";

    public static bool TryParseResult(string? text, out long at, out bool succeeded, out string result)
    {
        var body = text ?? string.Empty;
        var newline = body.IndexOf('\n', StringComparison.Ordinal);
        var head = (newline < 0 ? body : body[..newline]).Trim().Split(' ');
        result = newline < 0 ? string.Empty : body[(newline + 1)..];
        succeeded = head is [_, "ok"];
        at = 0;
        return head is [_, "ok" or "failed"] && long.TryParse(head[0], NumberStyles.None, CultureInfo.InvariantCulture, out at) && at > 0;
    }
}
