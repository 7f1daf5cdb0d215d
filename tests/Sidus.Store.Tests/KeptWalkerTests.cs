using Sidus.Store.Capture;

namespace Sidus.Store.Tests;

/// <summary>--keep-nothing's cleanup: what captures keep on the client goes, nothing else does.</summary>
public sealed class KeptWalkerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("sidus-kept-").FullName, "var-lib-sidus");

    public KeptWalkerTests() => Directory.CreateDirectory(_dir);

    private string State => Path.Combine(_dir, "capture.state");

    private string Walker(char digit) => Path.Combine(_dir, "sidus-walk-" + new string(digit, 64));

    [Fact]
    public void Forget_RemovesTheStateCacheAndKeptWalkers_AndTheirDirectory()
    {
        File.WriteAllText(State, "cache");
        File.WriteAllText(State + ".tmp", "staged");
        File.WriteAllText(Walker('a'), "walker");
        File.WriteAllText(Walker('b') + ".4242.new", "a killed capture's copy");

        KeptWalker.Forget(State, TextWriter.Null);

        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public void Forget_LeavesOtherFiles_AndADirectoryItFoundEmpty()
    {
        File.WriteAllText(State, "cache");
        File.WriteAllText(Walker('c'), "walker");
        var agents = Path.Combine(_dir, "agent.state");
        var lookalike = Path.Combine(_dir, "sidus-walk-notes");
        File.WriteAllText(agents, "a node agent's own");
        File.WriteAllText(lookalike, "not a walker's name");

        KeptWalker.Forget(State, TextWriter.Null);

        Assert.Equal([agents, lookalike], Directory.GetFiles(_dir).Order());
        File.Delete(agents);
        File.Delete(lookalike);
        KeptWalker.Forget(State, TextWriter.Null);
        Assert.True(Directory.Exists(_dir), "a directory that held nothing of the captures' is not removed");
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);
}
