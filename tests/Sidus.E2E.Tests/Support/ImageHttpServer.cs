using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Serving;
using Sidus.Wire.Contracts;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A tiny HTTP host for the serving functions (the routes `sidus serve` maps) plus the node events route, listening
/// inside the test's namespace. Hooks let a test make it fail: refuse everything for a while, or corrupt one file.
/// </summary>
internal sealed class ImageHttpServer : IDisposable
{
    public const int Port = 8080;
    private readonly HttpListener _listener = new();
    private readonly Repository _repository;
    private readonly Task _loop;

    private readonly NetworkNamespace _namespace;

    public ImageHttpServer(NetworkNamespace ns, Repository repository)
    {
        _repository = repository;
        _namespace = ns;
        _listener.Prefixes.Add($"http://{NetworkNamespace.HostAddress}:{Port}/");
        ns.RunInside(_listener.Start);
        _loop = Task.Run(LoopAsync);
    }

    public string Url => $"http://{NetworkNamespace.HostAddress}:{Port}";

    public ConcurrentQueue<(DateTime Time, string Mac, string Stage, string Detail)> Events { get; } = [];

    /// <summary>Until this time every request gets 503 (the server "unreachable" for the agent).</summary>
    public DateTime DownUntil { get; set; } = DateTime.MinValue;

    /// <summary>When set, the data of this content id is sent with one byte flipped.</summary>
    public ObjectId? Corrupt { get; set; }

    /// <summary>Files the override layer carries beside the "up" unit (a test's own units).</summary>
    public IReadOnlyList<Sidus.Nodes.Overrides.OverrideFile> ExtraOverrides { get; set; } = [];

    public int Requests;

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        Interlocked.Increment(ref Requests);
        try
        {
            var path = request.Url!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (path is ["api", "nodes", var mac, "events"] && request.HttpMethod == "POST")
            {
                using var doc = await JsonDocument.ParseAsync(request.InputStream);
                Events.Enqueue((DateTime.UtcNow, mac, doc.RootElement.GetProperty("stage").GetString()!, doc.RootElement.GetProperty("detail").GetString()!));
                response.StatusCode = 204;
            }
            else if (DateTime.UtcNow < DownUntil)
            {
                response.StatusCode = 503;
            }
            else if (path is ["api", "nodes", _, "overrides.tar"])
            {
                // This stand-in has no inventory: the layer is the "up" unit and the test's files (the hostname comes
                // from sidus.hostname).
                var layer = Sidus.Nodes.Overrides.OverrideArchive.ToBytes([.. Sidus.Nodes.Overrides.BuiltInFiles.UpUnitFiles(), .. ExtraOverrides]);
                response.ContentType = "application/x-tar";
                response.ContentLength64 = layer.Length;
                await response.OutputStream.WriteAsync(layer);
            }
            else if (path is ["api", "versions", var version, "manifest"] && ObjectId.TryParse(version, out var id))
            {
                var (manifest, sha) = ContentServer.Manifest(_repository, id, CancellationToken.None);
                response.ContentType = "text/plain";
                response.AddHeader(ContentRoutes.ManifestHashHeader, sha);
                response.ContentLength64 = manifest.Length;
                await response.OutputStream.WriteAsync(manifest);
            }
            else if (path is ["api", "versions", var batchVersion, "batch", ContentBatchPlan.Revision, var number] &&
                     ObjectId.TryParse(batchVersion, out var batchOf) && int.TryParse(number, out var index))
            {
                var (manifest, _) = ContentServer.Manifest(_repository, batchOf, CancellationToken.None);
                var batches = ContentBatchPlan.Make(ManifestReader.Parse(Encoding.UTF8.GetString(manifest)));
                if (index >= batches.Count)
                {
                    response.StatusCode = 404;
                }
                else
                {
                    var ids = batches[index].Select(item => ObjectId.Read(item.Content)).ToList();
                    response.ContentType = "application/octet-stream";
                    var buffer = new MemoryStream();
                    await ContentServer.WriteBatchAsync(_repository, ids, buffer, CancellationToken.None);
                    var bytes = buffer.ToArray();
                    if (Corrupt is { } bad && ids.IndexOf(bad) is var at and >= 0)
                    {
                        // Flip the last byte of that file's data: frames before it tell where it ends.
                        long offset = 0;
                        for (var i = 0; i <= at; i++)
                        {
                            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan((int)offset + ObjectId.Size));
                            offset += ContentServer.FrameHeaderLength + length;
                        }

                        bytes[offset - 1] ^= 0xFF;
                    }

                    response.ContentLength64 = bytes.Length;
                    await response.OutputStream.WriteAsync(bytes);
                }
            }
            else
            {
                response.StatusCode = 404;
            }
        }
        catch (Exception e) when (e is IOException or HttpListenerException or JsonException or StoreException)
        {
            response.StatusCode = 500;
        }
        finally
        {
            response.Close();
        }
    }

    public void Dispose()
    {
        // HttpListener looks its endpoint up again on close: do it where the endpoint lives.
        _namespace.RunInside(() =>
        {
            _listener.Stop();
            _listener.Close();
        });
        _loop.Wait(TimeSpan.FromSeconds(10));
    }
}
