namespace Sidus.Wire.Contracts;

/// <summary>
/// What the admin asks of a running node (`sidus node apply-overrides`), as its agent service waits for it. The agent
/// asks <c>GET /api/nodes/{mac}/requests?seen=MS</c> with its session; the server holds the question up to
/// <see cref="Wait"/> and answers one line, <c>overrides MS</c> when a request newer than SEEN (Unix milliseconds)
/// is waiting, <c>job MS</c> when a job is (<see cref="NodeJob"/>: the oldest waiting request is answered first), else
/// <c>none MS</c> (MS: the latest request, 0 when there is none). Without <c>seen</c> it answers
/// at once, so the agent learns where it starts: the latest request, or just before a job given during this boot
/// (after the node's session) that no one has answered yet, which the service then carries out. Once done, the agent posts <c>MS RESULT</c> (text/plain) to
/// <c>/api/nodes/{mac}/requests/overrides</c>: the request it answers and one result line.
/// </summary>
public static class NodeRequests
{
    public const string Template = "/api/nodes/{mac}/requests";
    public const string AnswerTemplate = "/api/nodes/{mac}/requests/overrides";
    public const string SeenParameter = "seen";

    /// <summary>How long the server holds a poll: under every idle limit between the two, so it never looks dead.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(25);

    /// <summary>The poll's answer when the overrides are to be applied again.</summary>
    public const string Overrides = "overrides";

    /// <summary>The poll's answer when a job waits (<see cref="NodeJob"/>, GET it at <see cref="NodeJob.Route"/>).</summary>
    public const string Job = "job";

    /// <summary>The poll's answer when nothing newer than SEEN waits.</summary>
    public const string None = "none";

    public static string Poll(string mac, long? seen) =>
        $"/api/nodes/{mac}/requests" + (seen is { } s ? $"?{SeenParameter}={s.ToString(CultureInfo.InvariantCulture)}" : string.Empty);

    public static string Answer(string mac) => $"/api/nodes/{mac}/requests/overrides";

    /// <summary>KIND (<see cref="Overrides"/>, <see cref="Job"/> or <see cref="None"/>) and the time it names.</summary>
    public static string FormatPoll(string kind, long at) => $"{kind} {at.ToString(CultureInfo.InvariantCulture)}\n";

    public static bool TryParsePoll(string text, out string kind, out long at)
    {
        var parts = (text ?? string.Empty).Trim().Split(' ');
        kind = parts.Length == 2 && parts[0] is Overrides or Job or None ? parts[0] : None;
        at = 0;
        return parts.Length == 2 && parts[0] is Overrides or Job or None &&
               long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out at);
    }

    public static string FormatAnswer(long request, string result) =>
        request.ToString(CultureInfo.InvariantCulture) + " " + result.ReplaceLineEndings(" ").Trim();

    public static bool TryParseAnswer(string text, out long request, out string result)
    {
        var trimmed = (text ?? string.Empty).Trim();
        var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        result = space < 0 ? string.Empty : trimmed[(space + 1)..];
        return long.TryParse(space < 0 ? trimmed : trimmed[..space], NumberStyles.None, CultureInfo.InvariantCulture, out request) && request > 0;
    }
}
