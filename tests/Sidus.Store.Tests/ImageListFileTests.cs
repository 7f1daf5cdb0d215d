using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// An image's list files (/etc/sidus/update.exclude, /etc/sidus/capture.exclude) read from the version asked for, not
/// only the newest: the format (comments, blank lines, spaces), a version without the file, a directory or a symlink
/// in its place, a file too large to be a list.
/// </summary>
public sealed class ImageListFileTests : IDisposable
{
    private const string ListPath = "/etc/sidus/update.exclude";
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    private Objects.ObjectId Version(int n, Action<string> fill)
    {
        var source = _store.Dir("v" + n);
        Directory.CreateDirectory(Path.Combine(source, "etc/sidus"));
        File.WriteAllText(Path.Combine(source, "etc/os-release"), $"VERSION={n}\n");
        fill(source);
        return _store.Import("img", source).Id;
    }

    [Fact]
    public void Read_TheVersionAskedFor_ItsLinesWithoutCommentsOrBlanks()
    {
        var v1 = Version(1, root => File.WriteAllText(Path.Combine(root, "etc/sidus/update.exclude"), "# models\n/opt/models\n\n  /srv/site/*  \n#/not\n"));
        var v2 = Version(2, _ => { });
        var v3 = Version(3, root => Directory.CreateDirectory(Path.Combine(root, "etc/sidus/update.exclude")));
        var v4 = Version(4, root => File.CreateSymbolicLink(Path.Combine(root, "etc/sidus/update.exclude"), "/etc/os-release"));

        Assert.Equal(["/opt/models", "/srv/site/*"], ImageListFile.Read(_store.Repository, v1, ListPath));
        Assert.Empty(ImageListFile.Read(_store.Repository, v2, ListPath));
        Assert.Empty(ImageListFile.Read(_store.Repository, v3, ListPath));
        Assert.Empty(ImageListFile.Read(_store.Repository, v4, ListPath));
        Assert.Empty(ImageListFile.Read(_store.Repository, v1, "/etc/sidus/capture.exclude"));
    }

    [Fact]
    public void Read_FileOverTheLimit_RefusedNamingPathAndVersion()
    {
        var big = Version(1, root => File.WriteAllText(Path.Combine(root, "etc/sidus/update.exclude"), new string('#', ImageListFile.MaxBytes + 1)));

        var e = Assert.Throws<StoreException>(() => ImageListFile.Read(_store.Repository, big, ListPath));

        Assert.Contains($"{ListPath} in version {big.ToString()[..12]} is over {ImageListFile.MaxBytes} bytes", e.Message, StringComparison.Ordinal);
    }
}
