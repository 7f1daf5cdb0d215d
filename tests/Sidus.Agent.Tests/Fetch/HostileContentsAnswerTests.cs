using System.Net;
using Sidus.Agent.Fetch;
using Sidus.Linux;
using Sidus.Store.Objects;
using Sidus.Store.Sync;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests.Fetch;

/// <summary>
/// An update's contents answer from a hostile or broken server, over a real socket: a frame claiming a terabyte of
/// zstd data for a 10-byte content is refused with a message (never a terabyte buffer), and nothing is handed over.
/// </summary>
public sealed class HostileContentsAnswerTests : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _url;

    public HostileContentsAnswerTests() => _url = HttpListenerLoop.StartOnLoopback(_listener, AnswerAsync).Url;

    private static readonly byte[] Content = Enumerable.Repeat((byte)7, ObjectId.Size).ToArray();

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }

    private static async Task AnswerAsync(HttpListenerContext context)
    {
        var header = new byte[ContentsFrame.HeaderLength];
        ContentsFrame.WriteHeader(header, Content, 10, ContentsFrame.Zstd, 1L << 40);
        await context.Response.OutputStream.WriteAsync(header);
        context.Response.Close();
    }

    [Fact]
    public async Task ZstdFrameBeyondItsBound_RefusedWithAMessage_NothingWritten()
    {
        using var http = new HttpClient();
        var version = new string('a', 64);
        using var source = new MissingContentSource(http, _url, version,
            [new ManifestEntry { Kind = FileKind.Regular, Path = "etc/motd"u8.ToArray(), Size = 10, Content = Content }]);
        var written = 0;
        var e = await Assert.ThrowsAsync<UpdateFailedException>(async () =>
            await source.DeliverAsync([new ContentWant(ObjectId.Read(Content), 10)], (_, _) => written++, CancellationToken.None));
        Assert.Contains("1099511627776 compressed bytes for a 10-byte content of /etc/motd", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, written);
    }
}
