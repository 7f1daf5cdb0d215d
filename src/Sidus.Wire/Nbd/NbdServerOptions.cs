using Sidus.Wire.Connections;

namespace Sidus.Wire.Nbd;

/// <summary>Where the NBD server listens and how much it tolerates.</summary>
public sealed record NbdServerOptions
{
    public required IPEndPoint Endpoint { get; init; }

    public required INbdExportSource Exports { get; init; }

    /// <summary>Time a client has for each step of the handshake (a silent client holds a connection otherwise).</summary>
    public TimeSpan HandshakeStepTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Time the client's part of the whole handshake may take (the server's own work, such as building an export,
    /// does not count). Once it chose an export there is no limit: an idle shared node still has its root there.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Connections served at once; beyond, new ones are closed at once (and logged).</summary>
    public int MaxConnections { get; init; } = 4096;

    /// <summary>Per-source and server-wide connection limits, checked as each connection is accepted; none when null.</summary>
    public ConnectionGate? Gate { get; init; }

    /// <summary>Bytes moved per positional read when answering a read request.</summary>
    public int ReadChunkLength { get; init; } = 1024 * 1024;

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Endpoint);
        ArgumentNullException.ThrowIfNull(Exports);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReadChunkLength, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeStepTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero);
    }
}
