using static Sidus.Cli.Commands.Node.NodeStatusCommand;

namespace Sidus.Cli.Commands.Node;

/// <summary>
/// `sidus node status --watch`: looks at the inventory every INTERVAL until Ctrl-C. On a terminal the table is redrawn
/// in place; piped (or --plain) the header comes once and then each row again whenever it changed, so `| grep` and
/// logs see every change and nothing else; with --json each changed row is one JSON line.
/// </summary>
public static class NodeStatusWatch
{
    private const string Home = "\u001b[H";
    private const string ClearScreen = "\u001b[2J";

    public static async Task RunAsync(
        Func<Task<(List<Row> Rows, Dictionary<string, NodeAccessRecord> Access)>> read, TimeSpan interval, bool json, CancellationToken ct)
    {
        var style = OutputStyle.Current;
        var shown = new Dictionary<string, string>(StringComparer.Ordinal);
        var first = true;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var (rows, access) = await read();
                if (!style.Plain && !json)
                {
                    Redraw(rows, access, interval, style);
                }
                else
                {
                    AppendChanged(rows, access, shown, json, first, style);
                }

                first = false;
                await Task.Delay(interval, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C is how a watch ends; the exit code is the usual 130 for it.
        }
    }

    private static void Redraw(List<Row> rows, Dictionary<string, NodeAccessRecord> access, TimeSpan interval, OutputStyle style)
    {
        var screen = new StringWriter();
        screen.WriteLine($"every {interval.TotalSeconds:0} s, {DateTime.Now:HH:mm:ss} (Ctrl-C stops)");
        Table(rows).Write(screen, style);
        foreach (var line in AccessLines(rows, access))
        {
            screen.WriteLine(line);
        }

        Console.Out.Write(Home + ClearScreen + screen);
        Console.Out.Flush();
    }

    private static void AppendChanged(
        List<Row> rows, Dictionary<string, NodeAccessRecord> access, Dictionary<string, string> shown, bool json, bool first, OutputStyle style)
    {
        var changed = new List<Row>();
        foreach (var row in rows)
        {
            var text = json ? Json(row, access).ToJsonString() : string.Join('\t', Cells(row));
            if (!shown.TryGetValue(row.Key, out var before) || before != text)
            {
                shown[row.Key] = text;
                changed.Add(row);
            }
        }

        if (json)
        {
            foreach (var row in changed)
            {
                Console.Out.WriteLine(shown[row.Key]);
            }
        }
        else if (changed.Count > 0 || (first && style.Headers))
        {
            Table(changed).Write(Console.Out, style with { Headers = first && style.Headers });
        }

        Console.Out.Flush();
    }
}
