using System.Security.Cryptography;
using System.Text;
using Sidus.Store.Serving;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>The node agent's fetch routes and the ram-mode script, on the real host, driven by curl.</summary>
public sealed class ServingHttpTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static string Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>curl as a node booting the fixture's version: with a session of it.</summary>
    private async Task<(int Status, byte[] Body, string Headers)> NodeCurlAsync(string url, params string[] extra) =>
        await Tools.CurlAsync(url, [.. NodeSessions.Bearer(await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(1), f.VersionId)), .. extra]);

    [Fact]
    public async Task Manifest_KnownVersion_ListsTheKernelWithItsHashHeader()
    {
        var (status, body, headers) = await NodeCurlAsync($"{f.Http}/api/versions/{f.VersionId}/manifest");
        var text = Encoding.UTF8.GetString(body);
        Assert.Equal(200, status);
        Assert.StartsWith(ManifestFormat.Header + "\n", text, StringComparison.Ordinal);
        Assert.Contains($" {f.Kernel.Length} {Hex(f.Kernel)} ", text, StringComparison.Ordinal);
        Assert.Contains($"{ContentRoutes.ManifestHashHeader}: {Hex(body)}", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("content-length: " + body.Length, headers, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Manifest_BadOrUnknownId_IsRefusedClearly()
    {
        var (bad, badBody, _) = await NodeCurlAsync($"{f.Http}/api/versions/not-an-id/manifest");
        Assert.Equal(400, bad);
        Assert.Contains("is not a version id", Encoding.UTF8.GetString(badBody), StringComparison.Ordinal);
        var (unknown, unknownBody, _) = await NodeCurlAsync($"{f.Http}/api/versions/{new string('0', 64)}/manifest");
        Assert.Equal(403, unknown);
        Assert.Contains($"is for version {f.VersionId[..12]}, not 000000000000", Encoding.UTF8.GetString(unknownBody), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Content_KnownId_SendsTheBytesWithLength()
    {
        var id = Hex(f.Kernel);
        var (status, body, headers) = await NodeCurlAsync($"{f.Http}/api/content/{id}");
        Assert.Equal(200, status);
        Assert.Equal(f.Kernel, body);
        Assert.Contains("content-length: " + f.Kernel.Length, headers, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(400, (await NodeCurlAsync($"{f.Http}/api/content/{id[..63]}")).Status);
        Assert.Equal(404, (await NodeCurlAsync($"{f.Http}/api/content/{new string('a', 64)}")).Status);
    }

    [Fact]
    public async Task Batch_First_SendsThePlansFramesInOrderAsAnImmutableGet()
    {
        var (_, manifest, _) = await NodeCurlAsync($"{f.Http}/api/versions/{f.VersionId}/manifest");
        var plan = ContentBatchPlan.Make(ManifestReader.Parse(Encoding.UTF8.GetString(manifest)));
        var expected = new List<byte>();
        foreach (var item in plan[0])
        {
            var (_, data, _) = await NodeCurlAsync($"{f.Http}/api/content/{Convert.ToHexStringLower(item.Content)}");
            expected.AddRange(FrameOf(data));
        }

        var (status, body, headers) = await NodeCurlAsync($"{f.Http}/api/versions/{f.VersionId}/batch/1/0");
        Assert.Equal(200, status);
        Assert.Equal(expected, body);
        Assert.Contains(plan.SelectMany(b => b), item => item.Content.AsSpan().SequenceEqual(SHA256.HashData(f.Kernel)));
        Assert.Contains("content-length: " + expected.Count, headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("cache-control: " + ContentRoutes.ImmutableCaching + "", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"etag: \"{f.VersionId}.1.0\"", headers, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Batch_BadIndexUnknownVersionOrPost_IsRefused()
    {
        var (bad, badBody, _) = await NodeCurlAsync($"{f.Http}/api/versions/{f.VersionId}/batch/1/zz");
        Assert.Equal(400, bad);
        Assert.Contains("'zz' is not a batch number", Encoding.UTF8.GetString(badBody), StringComparison.Ordinal);
        var (past, pastBody, _) = await NodeCurlAsync($"{f.Http}/api/versions/{f.VersionId}/batch/1/100000");
        Assert.Equal(404, past);
        Assert.Contains("batches, not 100001", Encoding.UTF8.GetString(pastBody), StringComparison.Ordinal);
        Assert.Equal(403, (await NodeCurlAsync($"{f.Http}/api/versions/{new string('0', 64)}/batch/1/0")).Status);
        Assert.NotEqual(200, (await NodeCurlAsync($"{f.Http}/api/content/batch", "-X", "POST", "--data-binary", Hex(f.Kernel) + "\n")).Status);
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
