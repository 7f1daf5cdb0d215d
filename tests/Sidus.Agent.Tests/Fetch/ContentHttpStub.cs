using System.Net;
using System.Net.Sockets;
using System.Text;
using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Serving;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests.Fetch;

/// <summary>
/// The server side of a node's fetch (<see cref="ContentRoutes"/>: manifest and batches) over a store, on loopback:
/// what the agent's fetch meets in ram mode, without Kestrel. <see cref="Corrupt"/> flips a byte of one content.
/// </summary>
internal sealed class ContentHttpStub : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Repository _repository;
    private readonly Task _loop;

    public ContentHttpStub(Repository repository)
    {
        _repository = repository;
        (Url, _loop) = HttpListenerLoop.StartOnLoopback(_listener, HandleAsync);
    }

    public string Url { get; }

    /// <summary>When set, the data of this content is sent with its last byte flipped.</summary>
    public ObjectId? Corrupt { get; set; }

    public int BatchRequests;

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (path is ["api", "versions", var version, "manifest"] && ObjectId.TryParse(version, out var id))
            {
                var (manifest, sha) = ContentServer.Manifest(_repository, id, CancellationToken.None);
                response.AddHeader(ContentRoutes.ManifestHashHeader, sha);
                response.ContentLength64 = manifest.Length;
                await response.OutputStream.WriteAsync(manifest);
            }
            else if (path is ["api", "versions", var of, "batch", ContentBatchPlan.Revision, var number] &&
                     ObjectId.TryParse(of, out var batchOf) && int.TryParse(number, out var index))
            {
                Interlocked.Increment(ref BatchRequests);
                var (manifest, _) = ContentServer.Manifest(_repository, batchOf, CancellationToken.None);
                var ids = ContentBatchPlan.Make(ManifestReader.Parse(Encoding.UTF8.GetString(manifest)))[index]
                    .Select(item => ObjectId.Read(item.Content)).ToList();
                using var buffer = new MemoryStream();
                await ContentServer.WriteBatchAsync(_repository, ids, buffer, CancellationToken.None);
                var bytes = buffer.ToArray();
                if (Corrupt is { } bad && ids.IndexOf(bad) is var at and >= 0)
                {
                    long end = 0;
                    for (var i = 0; i <= at; i++)
                    {
                        end += ContentBatchFrame.HeaderLength + ContentBatchFrame.ReadHeader(bytes.AsSpan((int)end)).Length;
                    }

                    bytes[end - 1] ^= 0xFF;
                }

                response.ContentLength64 = bytes.Length;
                await response.OutputStream.WriteAsync(bytes);
            }
            else
            {
                response.StatusCode = 404;
            }
        }
        catch (Exception e) when (e is IOException or HttpListenerException or StoreException or ArgumentOutOfRangeException)
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
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(10));
    }
}
