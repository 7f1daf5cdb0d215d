using Sidus.Store.Capture;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// The walker a capture keeps on the golden client for the next one: a whole copy, root's alone, the only one in its
/// directory (the state cache beside it untouched), and none where programs may not run. And --keep-nothing's
/// cleanup: what captures keep goes, nothing else does.
/// </summary>
public sealed class KeptWalkerTests : IDisposable
{
    private readonly TempDirectory _dir = new("sidus-kept-walker");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Keep_CopiesTheProgramWhole_RootsAlone_AndRemovesOlderWalkers()
    {
        var program = _dir.Sub("program");
        File.WriteAllBytes(program, [.. Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7))]);
        var kept = Directory.CreateDirectory(_dir.Sub("var/lib/sidus")).FullName;
        File.WriteAllText(Path.Combine(kept, "capture.state"), "the state cache");
        File.WriteAllText(Path.Combine(kept, "sidus-walk-" + new string('0', 64)), "an older walker");
        var abandoned = Path.Combine(kept, "sidus-walk-" + new string('1', 64) + ".4242.new");
        File.WriteAllText(abandoned, "a copy cut short an hour ago");
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow.AddHours(-1));
        var another = Path.Combine(kept, "sidus-walk-" + new string('a', 64) + ".4343.new");
        File.WriteAllText(another, "another capture's copy, being written");
        var path = Path.Combine(kept, "sidus-walk-" + new string('a', 64));
        var log = new StringWriter();

        KeptWalker.Keep(program, path, log);

        Assert.Equal("", log.ToString());
        Assert.Equal(File.ReadAllBytes(program), File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        Assert.Equal(["capture.state", Path.GetFileName(path), Path.GetFileName(another)],
            Directory.GetFiles(kept).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // Only a copy that hashes to its name runs; kept again over a damaged one: whole again.
        var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(program)));
        Assert.True(KeptWalker.IsWhole(path, id));
        using (var damage = File.OpenWrite(path))
        {
            damage.Position = 200_000;
            damage.WriteByte(0);
        }

        Assert.False(KeptWalker.IsWhole(path, id));
        Assert.False(KeptWalker.IsWhole(Path.Combine(kept, "missing"), id));
        KeptWalker.Keep(program, path, log);
        Assert.True(KeptWalker.IsWhole(path, id));
    }

    [Fact]
    public void Keep_WhereProgramsMayNotRun_OrUnderAnotherName_WritesNothing()
    {
        var program = _dir.Sub("program");
        File.WriteAllText(program, "a walker");
        var noexec = Directory.CreateDirectory(_dir.Sub("noexec")).FullName;
        Shell.Sh($"mount -t tmpfs -o noexec,size=1m sidus-test-noexec '{noexec}'");
        try
        {
            var log = new StringWriter();
            KeptWalker.Keep(program, Path.Combine(noexec, "sidus-walk-" + new string('a', 64)), log);
            Assert.Empty(Directory.GetFiles(noexec));

            KeptWalker.Keep(program, Path.Combine(_dir.Path, "bin-sh"), log);
            Assert.False(File.Exists(Path.Combine(_dir.Path, "bin-sh")));
            Assert.Contains("not a name the capture gives its walker", log.ToString());
        }
        finally
        {
            Shell.Run("umount", noexec);
        }
    }

    [Fact]
    public void Forget_RemovesTheStateCacheAndKeptWalkers_AndTheirDirectory()
    {
        var kept = Directory.CreateDirectory(_dir.Sub("var/lib/sidus")).FullName;
        var state = Path.Combine(kept, "capture.state");
        File.WriteAllText(state, "cache");
        File.WriteAllText(state + ".tmp", "staged");
        File.WriteAllText(Path.Combine(kept, "sidus-walk-" + new string('a', 64)), "walker");
        File.WriteAllText(Path.Combine(kept, "sidus-walk-" + new string('b', 64) + ".4242.new"), "a killed capture's copy");

        KeptWalker.Forget(state, TextWriter.Null);

        Assert.False(Directory.Exists(kept));
    }

    [Fact]
    public void Forget_LeavesOtherFiles_AndADirectoryThatHeldNothingOfTheCaptures()
    {
        var kept = Directory.CreateDirectory(_dir.Sub("var/lib/sidus")).FullName;
        var state = Path.Combine(kept, "capture.state");
        File.WriteAllText(state, "cache");
        File.WriteAllText(Path.Combine(kept, "sidus-walk-" + new string('c', 64)), "walker");
        var agents = Path.Combine(kept, "agent.state");
        var lookalike = Path.Combine(kept, "sidus-walk-notes");
        File.WriteAllText(agents, "a node agent's own");
        File.WriteAllText(lookalike, "not a walker's name");

        KeptWalker.Forget(state, TextWriter.Null);

        Assert.Equal([agents, lookalike], Directory.GetFiles(kept).Order(StringComparer.Ordinal));
        File.Delete(agents);
        File.Delete(lookalike);
        KeptWalker.Forget(state, TextWriter.Null);
        Assert.True(Directory.Exists(kept), "a directory that held nothing of the captures' is not removed");
    }
}
