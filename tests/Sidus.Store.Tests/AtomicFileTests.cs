using Sidus.Linux;

namespace Sidus.Store.Tests;

/// <summary>A file replaced with AtomicFile is the old one or the whole new one, and no temporary file stays.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-atomic-").FullName;

    private string Target => Path.Combine(_dir, "state");

    [Fact]
    public void Write_ReplacesTheFile_LeavingNoTemporary()
    {
        File.WriteAllText(Target, "old");
        File.WriteAllText(Target + AtomicFile.TemporarySuffix, "a killed writer's leftover");

        AtomicFile.Write(Target, "new"u8);

        Assert.Equal("new", File.ReadAllText(Target));
        Assert.Equal([Target], Directory.GetFiles(_dir));
    }

    [Fact]
    public void AFailedProduce_LeavesTheOldFile_AndNoTemporary()
    {
        File.WriteAllText(Target, "old");

        Assert.Throws<IOException>(() => AtomicFile.Produce(Target, temporary =>
        {
            File.WriteAllText(temporary, "half");
            throw new IOException("the disk is full");
        }));

        Assert.Equal("old", File.ReadAllText(Target));
        Assert.Equal([Target], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Staged_IsCommittedLater_OrRemoved()
    {
        var staged = AtomicFile.Stage(Target, "staged"u8);
        Assert.False(File.Exists(Target));
        AtomicFile.Commit(staged, Target);
        Assert.Equal("staged", File.ReadAllText(Target));

        File.Delete(AtomicFile.Stage(Target, "dropped"u8));
        Assert.Equal("staged", File.ReadAllText(Target));
        Assert.Equal([Target], Directory.GetFiles(_dir));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
