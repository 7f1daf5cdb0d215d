namespace Sidus.Wire.Tests.Dhcp;

/// <summary>Tests that build namespaces and run real clients share one collection so they never run in parallel
/// with each other (two cores, and timing-sensitive clients).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetworkTests
{
    public const string Name = "network namespaces";
}
