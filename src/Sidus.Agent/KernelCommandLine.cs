namespace Sidus.Agent;

/// <summary>The agent's arguments on this machine's kernel command line (<see cref="AgentKernelArguments"/>).</summary>
internal static class KernelCommandLine
{
    public static AgentKernelArguments Read() => AgentKernelArguments.Parse(File.ReadAllText("/proc/cmdline"));
}
