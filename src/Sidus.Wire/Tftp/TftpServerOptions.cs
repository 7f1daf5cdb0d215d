namespace Sidus.Wire.Tftp;

/// <summary>Settings of a <see cref="TftpServer"/>. Defaults suit a PXE network with a 1500-byte MTU.</summary>
public sealed class TftpServerOptions
{
    /// <summary>Where requests arrive; each transfer then gets its own socket on the same address.</summary>
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Any, 69);

    /// <summary>Directory served read-only; null to serve only <see cref="FileSource"/>.</summary>
    public string? RootDirectory { get; init; }

    /// <summary>Virtual files (per-node configs, image kernels), asked before the root directory.</summary>
    public ITftpFileSource? FileSource { get; init; }

    public TftpPathOptions Paths { get; init; } = new();

    /// <summary>Largest blksize granted; larger requests are clamped. 1468 keeps packets unfragmented on Ethernet.</summary>
    public int MaxBlockSize { get; init; } = TftpLimits.EthernetBlockSize;

    /// <summary>Largest RFC 7440 windowsize granted; larger requests are clamped.</summary>
    public int MaxWindowSize { get; init; } = 64;

    /// <summary>Transfers running at once; requests beyond get an ERROR (dnsmasq stops at 50).</summary>
    public int MaxSessions { get; init; } = 500;

    /// <summary>
    /// Transfers one source address may run at once; requests beyond are dropped unanswered (a PXE client runs one
    /// or two). 0 turns the limit off.
    /// </summary>
    public int MaxSessionsPerSource { get; init; }

    /// <summary>
    /// How long the first packet of a transfer (the OACK, or DATA 1) waits for the client's answer. It is never sent
    /// again: until the client speaks, a request (whose source may be forged) draws one packet, and a client that
    /// lost it asks again.
    /// </summary>
    public TimeSpan FirstAnswerTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First retransmission timeout when the client asks for none (the timeout option overrides it).</summary>
    public TimeSpan RetransmitTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Backoff ceiling: each silent timeout doubles the wait up to this.</summary>
    public TimeSpan MaxRetransmitTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Silent timeouts in a row before a transfer is given up.</summary>
    public int MaxRetransmits { get; init; } = 6;

    /// <summary>Hard limit on one transfer, whatever the client does.</summary>
    public TimeSpan MaxTransferTime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Requests per second accepted from one source address; 0 turns the limit off.</summary>
    public double RequestsPerSecondPerSource { get; init; }

    /// <summary>Requests one source may send in a burst when the rate limit is on.</summary>
    public int RequestBurstPerSource { get; init; } = 20;

    /// <summary>Throws when a setting is out of range (caller bug, found at startup).</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Endpoint);
        ArgumentNullException.ThrowIfNull(Paths);
        if (RootDirectory is null && FileSource is null)
        {
            throw new ArgumentException("a root directory or a file source is needed");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBlockSize, TftpLimits.MinBlockSize, nameof(MaxBlockSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBlockSize, TftpLimits.MaxBlockSize, nameof(MaxBlockSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWindowSize, TftpLimits.MinWindowSize, nameof(MaxWindowSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxWindowSize, TftpLimits.MaxWindowSize, nameof(MaxWindowSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSessions, 1, nameof(MaxSessions));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxSessionsPerSource, nameof(MaxSessionsPerSource));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FirstAnswerTimeout, TimeSpan.Zero, nameof(FirstAnswerTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RetransmitTimeout, TimeSpan.Zero, nameof(RetransmitTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetransmitTimeout, RetransmitTimeout, nameof(MaxRetransmitTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetransmits, 0, nameof(MaxRetransmits));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxTransferTime, TimeSpan.Zero, nameof(MaxTransferTime));
        ArgumentOutOfRangeException.ThrowIfNegative(RequestsPerSecondPerSource, nameof(RequestsPerSecondPerSource));
        ArgumentOutOfRangeException.ThrowIfLessThan(RequestBurstPerSource, 1, nameof(RequestBurstPerSource));
    }
}
