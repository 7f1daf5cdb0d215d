using System.Net;

namespace Sidus.Testing;

/// <summary>Serves a started <see cref="HttpListener"/>: each request to HANDLE on the thread pool, until the listener stops.</summary>
public static class HttpListenerLoop
{
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
