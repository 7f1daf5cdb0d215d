using System.Buffers.Binary;
using System.Security.Cryptography;
using Sidus.Wire.Contracts;

namespace Sidus.Bench.RamLoad;

/// <summary>
/// Writes what the simulated nodes fetch as plain files for a static web server: the manifest at the same path and
/// every content at objects/ID (the data a batch frame carries), each checked against its id.
/// </summary>
internal static class Exporter
{
    public static async Task<long> ExportAsync(HttpClient http, Uri server, FetchSetup setup, string directory, CancellationToken cancellation)
    {
        var manifestDir = Path.Combine(directory, "api", "versions", setup.Version);
        Directory.CreateDirectory(manifestDir);
        Directory.CreateDirectory(Path.Combine(directory, "objects"));
        var manifest = await http.GetByteArrayAsync(new Uri(server, $"/api/versions/{setup.Version}/manifest"), cancellation).ConfigureAwait(false);
        await File.WriteAllBytesAsync(Path.Combine(manifestDir, "manifest"), manifest, cancellation).ConfigureAwait(false);
        long total = 0;
        var header = new byte[32 + sizeof(long)];
        foreach (var (batch, index) in setup.Batches.Select((b, i) => (b, i)))
        {
            using var response = await http.GetAsync(new Uri(server, ContentRoutes.BatchOf(setup.Version, index)), cancellation).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                foreach (var id in batch)
                {
                    await stream.ReadExactlyAsync(header, cancellation).ConfigureAwait(false);
                    var data = new byte[BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(32))];
                    await stream.ReadExactlyAsync(data, cancellation).ConfigureAwait(false);
                    if (Convert.ToHexStringLower(SHA256.HashData(data)) != id)
                    {
                        throw new InvalidDataException($"content {id} does not hash to its id");
                    }

                    await File.WriteAllBytesAsync(Path.Combine(directory, "objects", id), data, cancellation).ConfigureAwait(false);
                    total += data.Length;
                }
            }
        }

        return total;
    }
}
