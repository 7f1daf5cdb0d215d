namespace Sidus.Agent.Boot;

/// <summary>A boot that retrying cannot fix (a missing driver, a device Sidus must not format): say it and stop.</summary>
internal sealed class UnbootableException(string message) : Exception(message);
