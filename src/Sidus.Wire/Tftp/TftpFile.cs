namespace Sidus.Wire.Tftp;

/// <summary>
/// An open file to send: a readable stream (read front to back once; the server buffers only its window) and its
/// length when known (needed to answer tsize). The server disposes it when the transfer ends.
/// </summary>
public sealed class TftpFile : IAsyncDisposable
{
    public TftpFile(Stream content, long? length)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanRead)
        {
            throw new ArgumentException("the stream must be readable", nameof(content));
        }

        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        Content = content;
        Length = length;
    }

    public Stream Content { get; }

    public long? Length { get; }

    public static TftpFile FromBytes(ReadOnlyMemory<byte> bytes) =>
        new(new MemoryStream(bytes.ToArray(), writable: false), bytes.Length);

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
