namespace Sidus.Agent;

/// <summary>What the agent says on the console: one line per step, prefixed so it stands out among kernel messages.</summary>
internal static class AgentConsole
{
    private static readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();

    public static void Say(string message) => Write("sidus-agent", message);

    public static void Fail(string message) => Write("sidus-agent: ERROR", message);

    private static void Write(string prefix, string message)
    {
        var line = $"[{Clock.Elapsed.TotalSeconds,7:F2}] {prefix}: {message}";
        lock (Clock)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
