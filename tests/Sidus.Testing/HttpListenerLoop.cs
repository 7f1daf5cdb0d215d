using System.Net;
using System.Net.Sockets;

namespace Sidus.Testing;

/// <summary>Serves a started <see cref="HttpListener"/>: each request to HANDLE on the thread pool, until the listener stops.</summary>
public static class HttpListenerLoop
{
    /// <summary>Starts LISTENER on a free loopback port and serves it with HANDLE; returns its base URL (no trailing slash) and the serving loop.</summary>
    public static (string Url, Task Loop) StartOnLoopback(HttpListener listener, Func<HttpListenerContext, Task> handle)
    {
        ArgumentNullException.ThrowIfNull(listener);
        string url;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }

        listener.Prefixes.Add(url + "/");
        listener.Start();
        return (url, Start(listener, handle));
    }

    public static Task Start(HttpListener listener, Func<HttpListenerContext, Task> handle)
    {
        ArgumentNullException.ThrowIfNull(listener);
        return Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(() => handle(context));
            }
        });
    }
}
