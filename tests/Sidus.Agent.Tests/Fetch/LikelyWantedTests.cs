using System.Text;
using Sidus.Agent.Update;
using Sidus.Linux;
using Sidus.Store.Objects;
using Sidus.Store.Sync;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests.Fetch;

/// <summary>
/// What an update asks for before its walk (the prefetch): every content of the version on an empty root, once
/// each; after a sync, only those its state cache does not show at their paths; never an excluded path's.
/// </summary>
public sealed class LikelyWantedTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sidus-likely-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string StateFile => Path.Join(_root, InstalledNode.StateCacheFile);

    private static byte[] Id(byte b) => Enumerable.Repeat(b, ObjectId.Size).ToArray();

    private static ManifestEntry File(string path, byte content, long size) =>
        new() { Kind = FileKind.Regular, Path = Encoding.UTF8.GetBytes(path), Content = Id(content), Size = size };

    [Fact]
    public void EmptyRoot_EveryContentOnce_ExcludesLeftOut_ThenOnlyWhatTheCacheDoesNotShow()
    {
        List<ManifestEntry> entries =
        [
            File("etc/a", 1, 10), File("etc/b", 2, 20), File("usr/b-again", 2, 20), File("var/log/x", 3, 5),
            File("etc/empty", 4, 0), new() { Kind = FileKind.Symlink, Path = "etc/link"u8.ToArray(), Target = "a"u8.ToArray() },
        ];
        var excludes = new SyncExcludes(["/var/log"]);
        Assert.Equal([new ContentWant(ObjectId.Read(Id(1)), 10), new ContentWant(ObjectId.Read(Id(2)), 20)],
            NodeUpdater.LikelyWanted(entries, StateCache.Load(StateFile), excludes));

        // A sync left etc/a with its content and etc/b with another: only etc/b's (and usr/b-again's) is likely wanted.
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        System.IO.File.WriteAllText(Path.Combine(_root, "etc/a"), "0123456789");
        System.IO.File.WriteAllText(Path.Combine(_root, "etc/b"), "old");
        using var etc = DirectoryHandle.Open(Path.Combine(_root, "etc"));
        var cache = StateCache.Empty(ObjectId.Read(Id(9)));
        cache.Add("etc/a"u8.ToArray(), etc.Stat("a"u8), ObjectId.Read(Id(1)), null, false);
        cache.Add("etc/b"u8.ToArray(), etc.Stat("b"u8), ObjectId.Read(Id(7)), null, false);
        Directory.CreateDirectory(Path.GetDirectoryName(StateFile)!);
        cache.Save(StateFile);
        Assert.Equal([new ContentWant(ObjectId.Read(Id(2)), 20)], NodeUpdater.LikelyWanted(entries, StateCache.Load(StateFile), excludes));
    }
}
