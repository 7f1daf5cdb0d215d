using System.Diagnostics;
using System.Security.Cryptography;

namespace Sidus.Bench.HttpLoad;

/// <summary>One simulated node: script, then the kernel and initramfs it names, checked by size (and hash).</summary>
internal sealed class NodeBoot(HttpClient http, Uri baseUri, string mac, ExpectedFile kernel, ExpectedFile initrd, bool verifyHash)
{
    private const int ReadBufferSize = 64 * 1024;

    public sealed record Result(string Mac, long Bytes, double Seconds, string? Error);

    public async Task<Result> RunAsync(CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        try
        {
            var script = await http.GetStringAsync(new Uri(baseUri, $"/boot/{mac.Replace(':', '-')}.ipxe"), cancellation).ConfigureAwait(false);
            bytes += script.Length;
            var (kernelUrl, initrdUrl) = ParseScript(script);
            bytes += await FetchAsync(new Uri(baseUri, kernelUrl), kernel, cancellation).ConfigureAwait(false);
            bytes += await FetchAsync(new Uri(baseUri, initrdUrl), initrd, cancellation).ConfigureAwait(false);
            return new Result(mac, bytes, clock.Elapsed.TotalSeconds, null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or OperationCanceledException)
        {
            return new Result(mac, bytes, clock.Elapsed.TotalSeconds, e.GetType().Name + ": " + e.Message);
        }
    }

    /// <summary>The kernel and initrd URLs of a Sidus boot script (`kernel URL ...`, `initrd --name N URL`).</summary>
    private static (string Kernel, string Initrd) ParseScript(string script)
    {
        string? kernelUrl = null;
        string? initrdUrl = null;
        foreach (var line in script.Split('\n'))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2 && words[0] == "kernel")
            {
                kernelUrl ??= words[1];
            }
            else if (words.Length >= 4 && words[0] == "initrd" && words[1] == "--name")
            {
                initrdUrl ??= words[3];
            }
        }

        return kernelUrl is null || initrdUrl is null
            ? throw new InvalidDataException("the script names no kernel and initrd:\n" + script)
            : (kernelUrl, initrdUrl);
    }

    private async Task<long> FetchAsync(Uri url, ExpectedFile expected, CancellationToken cancellation)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var hash = verifyHash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            var buffer = new byte[ReadBufferSize];
            long total = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer, cancellation).ConfigureAwait(false)) > 0)
            {
                total += n;
                hash?.AppendData(buffer, 0, n);
            }

            if (total != expected.Length)
            {
                throw new InvalidDataException($"{url.AbsolutePath}: {total} bytes, expected {expected.Length}");
            }

            if (hash is not null && !hash.GetHashAndReset().AsSpan().SequenceEqual(expected.Sha256))
            {
                throw new InvalidDataException($"{url.AbsolutePath}: SHA-256 differs from the source file");
            }

            return total;
        }
    }
}
