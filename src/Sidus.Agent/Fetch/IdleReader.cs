namespace Sidus.Agent.Fetch;

/// <summary>
/// Reads an HTTP answer's body as it comes, cut only when the server sends nothing for <see cref="Limit"/>: a slow
/// but live link (300 nodes on one gigabit port) is never cut by a whole-request timeout, a stalled one is.
/// </summary>
internal sealed class IdleReader(Stream stream, CancellationToken cancellation) : IDisposable
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);

    /// <summary>Fills BUFFER; an <see cref="IOException"/> saying why when the server stalls or the answer ends early.</summary>
    public async Task ReadExactlyAsync(Memory<byte> buffer)
    {
        _idle.CancelAfter(Limit);
        try
        {
            await stream.ReadExactlyAsync(buffer, _idle.Token);
        }
        catch (OperationCanceledException) when (_idle.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw new IOException($"the server sent nothing for {Limit.TotalSeconds:F0} s");
        }
        catch (EndOfStreamException)
        {
            throw new IOException("the server's answer ended early");
        }
    }

    public void Dispose() => _idle.Dispose();
}
