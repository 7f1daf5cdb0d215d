using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sidus.Cli.Rendering;

/// <summary>
/// A failure, told once on standard error: "sidus: MESSAGE" and, when there is one, a hint on the next line; under
/// --json one line {"error":{"message":...,"hint":...}} instead (standard output stays empty, so a script that parses
/// it never mistakes an error for a result). The exit code is the caller's.
/// </summary>
public static class CliError
{
    private static readonly JsonSerializerOptions OneLine = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string message, string? hint = null) => Write(Console.Error, OutputStyle.Current, message, hint);

    public static void Write(TextWriter writer, OutputStyle style, string message, string? hint)
    {
        if (style.JsonErrors)
        {
            var error = new JsonObject { ["message"] = message };
            if (hint is not null)
            {
                error["hint"] = hint;
            }

            writer.WriteLine(new JsonObject { ["error"] = error }.ToJsonString(OneLine));
            return;
        }

        writer.WriteLine("sidus: " + message);
        if (hint is not null)
        {
            writer.WriteLine("sidus: " + hint);
        }
    }
}
