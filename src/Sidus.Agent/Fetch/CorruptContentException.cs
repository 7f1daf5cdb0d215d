namespace Sidus.Agent.Fetch;

/// <summary>The server sent data that does not hash to the id asked for: the node must not boot from it.</summary>
internal sealed class CorruptContentException(string message) : Exception(message);
