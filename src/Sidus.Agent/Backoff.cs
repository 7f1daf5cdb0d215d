namespace Sidus.Agent;

/// <summary>Waits 1, 2, 4 ... up to 30 s between attempts, with jitter so a rack of nodes does not retry in step.</summary>
internal sealed class Backoff(double firstSeconds = 1, double maxSeconds = 30)
{
    private double _next = firstSeconds;

    public int Attempt { get; private set; }

    public TimeSpan Next()
    {
        Attempt++;
        var wait = _next * (0.75 + (Random.Shared.NextDouble() / 2));
        _next = Math.Min(_next * 2, maxSeconds);
        return TimeSpan.FromSeconds(wait);
    }

    public Task WaitAsync() => Task.Delay(Next());
}
