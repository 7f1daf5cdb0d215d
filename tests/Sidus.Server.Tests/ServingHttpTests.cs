using System.Security.Cryptography;
using System.Text;
using Sidus.Store.Serving;

namespace Sidus.Server.Tests;

/// <summary>The node agent's fetch routes and the ram-mode script, on the real host, driven by curl.</summary>
public sealed class ServingHttpTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static string Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    [Fact]
    public async Task Manifest_KnownVersion_ListsTheKernelWithItsHashHeader()
    {
        var (status, body, headers) = await Tools.CurlAsync($"{f.Http}/api/versions/{f.VersionId}/manifest");
        var text = Encoding.UTF8.GetString(body);
        Assert.Equal(200, status);
        Assert.StartsWith(ManifestFormat.Header + "\n", text, StringComparison.Ordinal);
        Assert.Contains($" {f.Kernel.Length} {Hex(f.Kernel)} ", text, StringComparison.Ordinal);
        Assert.Contains($"{ServingRoutes.ManifestHashHeader}: {Hex(body)}", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("content-length: " + body.Length, headers, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Manifest_BadOrUnknownId_IsRefusedClearly()
    {
        var (bad, badBody, _) = await Tools.CurlAsync($"{f.Http}/api/versions/not-an-id/manifest");
        Assert.Equal(400, bad);
        Assert.Contains("is not a version id", Encoding.UTF8.GetString(badBody), StringComparison.Ordinal);
        var (unknown, _, _) = await Tools.CurlAsync($"{f.Http}/api/versions/{new string('0', 64)}/manifest");
        Assert.Equal(404, unknown);
    }

    [Fact]
    public async Task Content_KnownId_SendsTheBytesWithLength()
    {
        var id = Hex(f.Kernel);
        var (status, body, headers) = await Tools.CurlAsync($"{f.Http}/api/content/{id}");
        Assert.Equal(200, status);
        Assert.Equal(f.Kernel, body);
        Assert.Contains("content-length: " + f.Kernel.Length, headers, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(400, (await Tools.CurlAsync($"{f.Http}/api/content/{id[..63]}")).Status);
        Assert.Equal(404, (await Tools.CurlAsync($"{f.Http}/api/content/{new string('a', 64)}")).Status);
    }

    [Fact]
    public async Task Batch_TwoIds_SendsFramesInOrder()
    {
        var ids = new[] { Hex(f.Initrd), Hex(f.Kernel) };
        var (status, body, headers) = await Tools.CurlAsync($"{f.Http}/api/content/batch", "-X", "POST", "--data-binary", string.Join('\n', ids) + "\n");
        Assert.Equal(200, status);
        var expected = FrameOf(f.Initrd).Concat(FrameOf(f.Kernel)).ToArray();
        Assert.Equal(expected, body);
        Assert.Contains("content-length: " + expected.Length, headers, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Batch_BadLineOrTooLarge_IsRefused()
    {
        var (bad, badBody, _) = await Tools.CurlAsync($"{f.Http}/api/content/batch", "-X", "POST", "--data-binary", "zz\n");
        Assert.Equal(400, bad);
        Assert.Contains("line 1 is not a 64-digit hex content id", Encoding.UTF8.GetString(badBody), StringComparison.Ordinal);

        var file = Path.Combine(f.Home, "huge-batch");
        var line = Hex(f.Kernel) + "\n";
        await File.WriteAllTextAsync(file, string.Concat(Enumerable.Repeat(line, ContentServer.MaxBatchIds + 1)));
        var (tooMany, _, _) = await Tools.CurlAsync($"{f.Http}/api/content/batch", "-X", "POST", "--data-binary", "@" + file);
        Assert.Equal(400, tooMany);

        await File.WriteAllTextAsync(file, new string('a', 2 * 1024 * 1024));
        var (tooLarge, _, _) = await Tools.CurlAsync($"{f.Http}/api/content/batch", "-X", "POST", "--data-binary", "@" + file);
        Assert.Equal(413, tooLarge);
    }

    [Fact]
    public async Task Script_RamNodeWithoutAgent_SaysHowToGetOne()
    {
        var (status, body, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(6)}.ipxe");
        var script = Encoding.UTF8.GetString(body);
        Assert.Equal(200, status);
        Assert.Contains("node n6: the node agent is missing (" + Path.Combine(f.Home, "no-agent-here") + "): run ./sidus once", script, StringComparison.Ordinal);
        Assert.Contains("--agent PATH", script, StringComparison.Ordinal);
        Assert.DoesNotContain("kernel ", script, StringComparison.Ordinal);
    }

    private static byte[] FrameOf(byte[] data)
    {
        var frame = new byte[ContentServer.FrameHeaderLength + data.Length];
        SHA256.HashData(data).CopyTo(frame, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(32), data.Length);
        data.CopyTo(frame, ContentServer.FrameHeaderLength);
        return frame;
    }
}
