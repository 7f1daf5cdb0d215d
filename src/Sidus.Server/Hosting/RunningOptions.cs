namespace Sidus.Server.Hosting;

/// <summary>
/// The configuration the server runs with now. It starts as the options the server was started with; a reload puts in
/// the settings that can change live (<see cref="ConfigChanges"/>), never those its sockets or files depend on. Readers
/// take <see cref="Current"/> once per decision.
/// </summary>
public sealed class RunningOptions(ServeOptions initial)
{
    private ServeOptions _current = initial;

    public ServeOptions Current
    {
        get => Volatile.Read(ref _current);
        internal set => Volatile.Write(ref _current, value);
    }
}
