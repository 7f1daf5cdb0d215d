namespace Sidus.Store.Capture;

/// <summary>The two directions between the server and a walker (an ssh connection, a local process, a pipe).</summary>
public interface ICaptureChannel
{
    Stream FromWalker { get; }

    Stream ToWalker { get; }

    /// <summary>Milliseconds since the walker last sent anything.</summary>
    long IdleMilliseconds { get; }

    /// <summary>What the walker's side said on its way out (ssh's and the walker's errors), for messages.</summary>
    string Errors { get; }

    /// <summary>Cuts the channel: pending reads end.</summary>
    void Abort();
}
