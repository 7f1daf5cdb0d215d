using System.Net;
using System.Security.Cryptography;
using Sidus.Agent.Fetch;
using Sidus.Store.Compression;
using Sidus.Store.Objects;
using Sidus.Store.Sync;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests.Fetch;

/// <summary>
/// A large content sent as zstd, from a real HTTP server on loopback: it reaches the writer in pieces and whole;
/// one that decompresses to other data, to too much or too little, or not at all fails from inside the writer's
/// enumeration, after which the writer (the sync) removes what it took, so the content is never complete anywhere.
/// </summary>
public sealed class LargeContentTests : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _url;
    private readonly byte[] _data = RandomNumberGenerator.GetBytes(5 << 20);
    private byte[] _sent = [];
    private long _claimedLength;
    private readonly MemoryStream _taken = new();

    public LargeContentTests() => _url = HttpListenerLoop.StartOnLoopback(_listener, AnswerAsync).Url;

    private ObjectId Id => ObjectId.Read(SHA256.HashData(_data));

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _taken.Dispose();
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var header = new byte[ContentsFrame.HeaderLength];
        var id = new byte[ObjectId.Size];
        Id.Write(id);
        ContentsFrame.WriteHeader(header, id, _claimedLength, ContentsFrame.Zstd, _sent.Length);
        await context.Response.OutputStream.WriteAsync(header);
        await context.Response.OutputStream.WriteAsync(_sent);
        context.Response.Close();
    }

    /// <summary>Delivers the content as the server sends it; returns what the writer took and how many pieces.</summary>
    private async Task<(byte[] Taken, int Pieces)> DeliverAsync()
    {
        using var http = new HttpClient();
        using var source = new MissingContentSource(http, _url, new string('a', 64),
            [new ManifestEntry { Kind = Linux.FileKind.Regular, Path = "usr/lib/big.so"u8.ToArray(), Size = _data.Length, Content = SHA256.HashData(_data) }]);
        var pieces = 0;
        await source.DeliverAsync([new ContentWant(Id, _data.Length)], (_, data) =>
        {
            foreach (var piece in data)
            {
                _taken.Write(piece.Span);
                pieces++;
            }
        }, CancellationToken.None);
        return (_taken.ToArray(), pieces);
    }

    [Fact]
    public async Task LargeZstdContent_ReachesTheWriterInPieces_Whole()
    {
        _sent = Zstd.Compress(_data, 1);
        _claimedLength = _data.Length;
        var (taken, pieces) = await DeliverAsync();

        Assert.Equal(_data, taken);
        Assert.True(pieces > 1, $"{pieces} piece(s): the content was not streamed");
    }

    [Fact]
    public async Task OtherData_FailsAtTheEndOfTheEnumeration_NamingThePath()
    {
        var other = (byte[])_data.Clone();
        other[^1] ^= 1;
        _sent = Zstd.Compress(other, 1);
        _claimedLength = _data.Length;
        var e = await Assert.ThrowsAsync<CorruptContentException>(DeliverAsync);

        Assert.Contains("/usr/lib/big.so is corrupt on the server", e.Message, StringComparison.Ordinal);
        Assert.Contains("hashes to", e.Message, StringComparison.Ordinal);
        // All of it reached the writer (its temporary file) before the check said no: the sync removes it then.
        Assert.Equal(_data.Length, _taken.Length);
    }

    [Fact]
    public async Task MoreDataThanItsLength_Refused()
    {
        // Zeros after it: the frame stays within zstd's bound for the length claimed, so only decompressing tells.
        _sent = Zstd.Compress([.. _data, .. new byte[2 << 20]], 1);
        _claimedLength = _data.Length;
        var e = await Assert.ThrowsAsync<CorruptContentException>(DeliverAsync);

        Assert.Contains("decompresses to more than its 5242880 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncatedFrame_DoesNotDecompress()
    {
        var whole = Zstd.Compress(_data, 1);
        _sent = whole[..(whole.Length / 2)];
        _claimedLength = _data.Length;
        var e = await Assert.ThrowsAsync<CorruptContentException>(DeliverAsync);

        Assert.Contains("/usr/lib/big.so does not decompress", e.Message, StringComparison.Ordinal);
    }
}
