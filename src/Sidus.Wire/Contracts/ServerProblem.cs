using System.Text.Json;

namespace Sidus.Wire.Contracts;

/// <summary>
/// What a refusal from the server says, for a node's console and its events: the server's /api routes answer
/// problem details (RFC 9457, application/problem+json) whose "detail" is the sentence meant for a person; other
/// routes answer that sentence as text. Either way the reader gets the sentence, not the JSON around it.
/// </summary>
public static class ServerProblem
{
    /// <summary>Longer answers are cut: a console line, not a page.</summary>
    public const int MaxLength = 1000;

    public static string Text(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var text = body.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("detail", out var detail) &&
                    detail.ValueKind == JsonValueKind.String)
                {
                    text = detail.GetString()!.Trim();
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: the text is what there is.
            }
        }

        return text.Length > MaxLength ? text[..MaxLength] + "..." : text;
    }
}
