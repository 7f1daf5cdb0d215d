namespace Sidus.Wire.Tests.Tftp;

/// <summary>
/// Tests that move real traffic run one at a time: on a 2-core machine, parallel transfers would turn timing
/// assertions (retransmission, concurrency bounds) into noise.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TftpNetworkCollection
{
    public const string Name = "TFTP network";
}
