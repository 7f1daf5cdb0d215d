using System.Security.Cryptography;
using System.Text;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// POST /api/versions/{v}/contents over curl: only the version's own contents, only with a credential of that version
/// (or an admin's), frames in the order asked, zstd only when asked and smaller; malformed bodies refused.
/// </summary>
public sealed class ContentsRouteTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private const string OtherVersion = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private async Task<(int Status, byte[] Body)> PostAsync(byte[] body, params string[] auth)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, body);
            var (status, answer, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ContentsOf(f.VersionId),
                [.. auth, "-X", "POST", "--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream"]);
            return (status, answer);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Contents_OwnVersionsSessionOrAdmin_FramesInOrder_OthersRefused()
    {
        var kernel = SHA256.HashData(f.Kernel);
        var initrd = SHA256.HashData(f.Initrd);
        var body = ContentsRequest.Encode([initrd, kernel], acceptZstd: false);

        var session = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(0x61), f.VersionId);
        var (status, answer) = await PostAsync(body, NodeSessions.Bearer(session));
        Assert.True(status == 200, Encoding.UTF8.GetString(answer));
        var at = 0;
        foreach (var (id, data) in new[] { (initrd, f.Initrd), (kernel, f.Kernel) })
        {
            var (frameId, length, encoding, sent) = ContentsFrame.ReadHeader(answer.AsSpan(at, ContentsFrame.HeaderLength));
            Assert.Equal(id, frameId);
            Assert.Equal((data.Length, ContentsFrame.Raw, (long)data.Length), (length, encoding, sent));
            Assert.Equal(data, answer.AsSpan(at + ContentsFrame.HeaderLength, data.Length).ToArray());
            at += ContentsFrame.HeaderLength + data.Length;
        }

        Assert.Equal(answer.Length, at);

        // The answer is streamed (no Content-Length): the log says what went out all the same.
        var served = $"Served 2 contents of {f.VersionId[..12]} to ";
        Assert.True(SpinWait.SpinUntil(() => f.Log.Lines.Any(l => l.Contains(served, StringComparison.Ordinal)), TimeSpan.FromSeconds(10)), string.Join('\n', f.Log.Lines));
        Assert.Contains(f.Log.Lines, l => l.Contains(served, StringComparison.Ordinal) && l.EndsWith($": {answer.Length} bytes", StringComparison.Ordinal));
        Assert.Equal(200, (await PostAsync(body, Tools.Bearer(f.AdminToken))).Status);

        // No credential, another version's session, a content that is not the version's: refused, nothing sent.
        Assert.Equal(401, (await PostAsync(body)).Status);
        var other = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(0x62), OtherVersion);
        Assert.Equal(403, (await PostAsync(body, NodeSessions.Bearer(other))).Status);
        var stranger = ContentsRequest.Encode([kernel, SHA256.HashData("not in the version"u8)], acceptZstd: false);
        var (notHere, why) = await PostAsync(stranger, NodeSessions.Bearer(session));
        Assert.Equal(404, notHere);
        Assert.Contains($"in version {f.VersionId[..12]}", Encoding.UTF8.GetString(why), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Contents_Malformed_400_TooLong_413()
    {
        Assert.Equal(400, (await PostAsync([0, 1, 2], Tools.Bearer(f.AdminToken))).Status);
        Assert.Equal(400, (await PostAsync([9, .. new byte[32]], Tools.Bearer(f.AdminToken))).Status);
        Assert.Equal(413, (await PostAsync(new byte[1 + ((ContentsRequest.MaxIds + 1) * 32)], Tools.Bearer(f.AdminToken))).Status);
    }

    [Fact]
    public async Task Contents_ZstdAsked_SmallerFramesDecodeToTheData()
    {
        // Random data does not compress: it comes raw even when zstd is accepted.
        var kernel = SHA256.HashData(f.Kernel);
        var (status, answer) = await PostAsync(ContentsRequest.Encode([kernel], acceptZstd: true), Tools.Bearer(f.AdminToken));
        Assert.Equal(200, status);
        var (_, length, encoding, sent) = ContentsFrame.ReadHeader(answer);
        Assert.Equal((f.Kernel.Length, ContentsFrame.Raw, (long)f.Kernel.Length), (length, encoding, sent));

        // What the server compressed (or found not worth it) for one node is shared, but never past the access check:
        // a session of another version is still refused the same content once the cache holds it.
        var other = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(0x63), OtherVersion);
        Assert.Equal(403, (await PostAsync(ContentsRequest.Encode([kernel], acceptZstd: true), NodeSessions.Bearer(other))).Status);
    }
}
