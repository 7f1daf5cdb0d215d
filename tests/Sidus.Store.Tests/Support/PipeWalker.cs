using System.IO.Pipes;
using Sidus.Store.Capture;

namespace Sidus.Store.Tests.Support;

/// <summary>
/// A walker in this process: a program (the real <see cref="CaptureWalker"/>, or a test's misbehaving one) runs on
/// its own thread, joined to the server by two real pipes, as sidus-walk is joined by its standard input and output.
/// <see cref="Abort"/> closes the walker's ends, as killing its process would: the server's reads end, its writes fail.
/// </summary>
public sealed class PipeWalker : ICaptureChannel, IDisposable
{
    private readonly AnonymousPipeServerStream _toWalker = new(PipeDirection.Out, HandleInheritability.None);
    private readonly AnonymousPipeServerStream _fromWalker = new(PipeDirection.In, HandleInheritability.None);
    private readonly AnonymousPipeClientStream _walkerInput;
    private readonly AnonymousPipeClientStream _walkerOutput;
    private readonly StringWriter _log = new();
    private readonly Thread _thread;
    private long _lastRead = Environment.TickCount64;
    private Exception? _crash;

    /// <param name="program">The walker's side: reads the server's requests from its first stream, answers on its
    /// second, writes its errors to the log; returns its exit code.</param>
    public PipeWalker(Func<Stream, Stream, TextWriter, int> program)
    {
        _walkerInput = new AnonymousPipeClientStream(PipeDirection.In, _toWalker.ClientSafePipeHandle);
        _walkerOutput = new AnonymousPipeClientStream(PipeDirection.Out, _fromWalker.ClientSafePipeHandle);
        FromWalker = new ActivityStream(_fromWalker, this);
        _thread = new Thread(() =>
        {
            try
            {
                ExitCode = program(_walkerInput, _walkerOutput, TextWriter.Synchronized(_log));
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The server went away (or aborted it) while the walker wrote: a killed process ends so too.
                ExitCode = -1;
            }
            catch (Exception e)
            {
                _crash = e; // The walker itself is broken: Dispose reports it.
            }
            finally
            {
                _walkerOutput.Dispose(); // The process's end: the server reads the end of the stream.
                _walkerInput.Dispose();
            }
        })
        { IsBackground = true, Name = "walker" };
        _thread.Start();
    }

    /// <summary>
    /// The real walker, walking ROOT (state cache at STATEPATH, none if null). The tests write their files the moment
    /// before: unless RACYWINDOW is given, every file counts as settled (see <see cref="CaptureWalker.RacyWindow"/>).
    /// </summary>
    public static PipeWalker Capture(string root, string? statePath, TimeSpan? racyWindow = null) =>
        new((input, output, log) => new CaptureWalker(input, output, root, statePath, log) { RacyWindow = racyWindow ?? TimeSpan.FromHours(-1) }
            .Run(CancellationToken.None));

    public Stream FromWalker { get; }

    public Stream ToWalker => _toWalker;

    public long IdleMilliseconds => Environment.TickCount64 - Interlocked.Read(ref _lastRead);

    public string Errors => _log.ToString();

    /// <summary>The walker's exit code once it ended (-1: cut off while it wrote).</summary>
    public int? ExitCode { get; private set; }

    public bool Aborted { get; private set; }

    public void Abort()
    {
        Aborted = true;
        _walkerOutput.Dispose();
        _walkerInput.Dispose();
    }

    /// <summary>Waits for the walker to end (the server's ends are closed first, so a walker still waiting on the
    /// server ends too); returns its exit code.</summary>
    public int Finish()
    {
        _toWalker.Dispose();
        _fromWalker.Dispose();
        Assert.True(_thread.Join(TimeSpan.FromSeconds(30)), "the walker thread did not end");
        if (_crash is not null)
        {
            throw new InvalidOperationException("the walker crashed", _crash);
        }

        return ExitCode ?? -1;
    }

    public void Dispose()
    {
        _toWalker.Dispose();
        _fromWalker.Dispose();
        _thread.Join(TimeSpan.FromSeconds(30));
    }

    /// <summary>Counts every read of the walker's output as activity, as <see cref="WalkerProcess"/> does.</summary>
    private sealed class ActivityStream(Stream inner, PipeWalker owner) : Sidus.Store.Formats.ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            Interlocked.Exchange(ref owner._lastRead, Environment.TickCount64);
            return n;
        }
    }
}
