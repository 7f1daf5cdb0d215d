namespace Sidus.Wire.Connections;

/// <summary>One admitted connection's place; disposing it (once or more) gives the place back.</summary>
public sealed class ConnectionTicket : IDisposable
{
    private readonly ConnectionGate _gate;
    private readonly IPAddress _source;
    private int _released;

    internal ConnectionTicket(ConnectionGate gate, IPAddress source)
    {
        _gate = gate;
        _source = source;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _gate.Release(_source);
        }
    }
}
