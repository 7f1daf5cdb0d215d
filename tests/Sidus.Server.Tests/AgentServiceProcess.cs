using System.Diagnostics;
using System.Text;

namespace Sidus.Server.Tests;

/// <summary>
/// The real node agent's service (`sidus-agent service`, the sidus-agent.dll built beside these tests) on a plain
/// directory, started and waited for until it waits for jobs; what it says is collected; killed when disposed.
/// </summary>
internal sealed class AgentServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _said = new();

    private AgentServiceProcess(Process process) => _process = process;

    /// <summary>Everything the agent said so far, standard output and error.</summary>
    public string Said
    {
        get
        {
            lock (_said)
            {
                return _said.ToString();
            }
        }
    }

    /// <summary>Starts the service on ROOT for node MAC against HTTP with the credential in SESSION_FILE.</summary>
    public static async Task<AgentServiceProcess> StartAsync(string root, string http, string mac, string sessionFile)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sidus-agent.dll");
        Assert.True(File.Exists(dll), "the agent was not built next to the tests: " + dll);
        var process = Process.Start(new ProcessStartInfo("dotnet", [dll, "service", "--root", root, "--server", http, "--mac", mac, "--session", sessionFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var agent = new AgentServiceProcess(process);
        process.OutputDataReceived += (_, e) => agent.Add(e.Data);
        process.ErrorDataReceived += (_, e) => agent.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Tools.EventuallyAsync(() => Task.FromResult(agent.Said.Contains("service: waiting on", StringComparison.Ordinal)), TimeSpan.FromSeconds(30),
                "the agent service starting");
        }
        catch (Exception)
        {
            await agent.DisposeAsync();
            throw;
        }

        return agent;
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Add(string? line)
    {
        lock (_said)
        {
            _said.AppendLine(line);
        }
    }
}
