using Sidus.Agent.Fetch;
using Sidus.Linux;
using Sidus.Store;
using Sidus.Store.Checkout;
using Sidus.Store.Objects;
using Sidus.Store.Serving;
using Sidus.Store.Sync;
using Sidus.Store.Tests.Support;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests.Fetch;

/// <summary>
/// The store's sync engine fed over HTTP, as the agent's ram sync runs it, into plain directories: every kind of file
/// and metadata arrives as in the source tree (and as `sidus image checkout` lays it out); bad data is refused with
/// nothing half-written; an existing tree is corrected without following its symlinks.
/// </summary>
public sealed class TreeSyncOverHttpTests : IDisposable
{
    private readonly TempDirectory _temp = new("sidus-agent-sync");
    private readonly Repository _repository;
    private readonly string _source;
    private readonly ObjectId _version;

    public TreeSyncOverHttpTests()
    {
        _source = _temp.Sub("source");
        Directory.CreateDirectory(_source);
        TreeFactory.Everything(_source);
        Directory.CreateDirectory(_temp.Sub("home"));
        _repository = Repository.Open(_temp.Sub("home"));
        _version = new ImageStore(_repository).ImportDirectory("img", _source, "test", null, CancellationToken.None).Id;
    }

    public void Dispose()
    {
        _repository.Dispose();
        _temp.Dispose();
    }

    /// <summary>The source tree as a manifest carries it: sockets are left out.</summary>
    private string ExpectedSnapshot() => WithoutSocket(TreeSnapshot.Of(_source));

    private static string WithoutSocket(string snapshot) =>
        string.Join('\n', snapshot.Split('\n').Where(line => !line.StartsWith("var/socket ", StringComparison.Ordinal)));

    [Fact]
    public async Task RootFetcher_EveryKindOfFile_LaidOutAsTheSourceAndAsCheckout()
    {
        using var server = new ContentHttpStub(_repository);
        using var http = new HttpClient();
        var target = _temp.Sub("ram");
        Directory.CreateDirectory(target);

        var stats = await new RootFetcher(http, server.Url, new EventReporter(http)).FetchAsync(_version.ToString(), null, target);

        Assert.Equal(ExpectedSnapshot(), TreeSnapshot.Of(target));
        var checkout = _temp.Sub("checkout");
        TreeSync.Checkout(_repository, _version, checkout, new CheckoutOptions(), CancellationToken.None);
        Assert.Equal(WithoutSocket(TreeSnapshot.Of(checkout)), TreeSnapshot.Of(target));
        Assert.Equal(1 + server.BatchRequests, stats.Requests);
        Assert.InRange(server.BatchRequests, 1, 3);
    }

    [Fact]
    public async Task Sync_CorruptObject_RefusedWithNothingHalfWritten()
    {
        var (entries, hash) = await ManifestAsync();
        var victim = entries.Single(e => e.Path.AsSpan().SequenceEqual("usr/bin/big"u8));
        using var server = new ContentHttpStub(_repository) { Corrupt = ObjectId.Read(victim.Content!) };
        using var http = new HttpClient();
        var target = _temp.Sub("ram");
        var problems = new List<string>();
        var content = new HttpContentSource(http, server.Url, _version.ToString(), entries, (problem, _) =>
        {
            problems.Add(problem);
            throw new OperationCanceledException(problem);
        });

        var sync = new TreeSync(new ManifestTree(_version, hash, entries), content, new CheckoutOptions(), cacheDirectory: null);
        var refused = await Assert.ThrowsAsync<OperationCanceledException>(() => sync.RunAsync(target, CancellationToken.None));

        Assert.StartsWith("REFUSED: the data of usr/bin/big is corrupt on the server: content " + ObjectId.Read(victim.Content!), refused.Message, StringComparison.Ordinal);
        Assert.Single(problems);
        Assert.False(File.Exists(Path.Combine(target, "usr/bin/big")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(target, ".sidus-*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Sync_OntoAnExistingTree_FixesItWithoutFollowingItsSymlinks()
    {
        var target = _temp.Sub("existing");
        var outside = _temp.Sub("outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(Path.Combine(target, "usr/bin"));
        File.WriteAllText(Path.Combine(target, "usr/bin/big"), "old data");
        File.WriteAllText(Path.Combine(target, "stale"), "to be removed");
        Directory.CreateSymbolicLink(Path.Combine(target, "etc"), outside);
        File.CreateSymbolicLink(Path.Combine(target, "empty-dir"), outside);
        var (entries, hash) = await ManifestAsync();
        using var server = new ContentHttpStub(_repository);
        using var http = new HttpClient();
        var content = new HttpContentSource(http, server.Url, _version.ToString(), entries, (problem, _) => throw new InvalidOperationException(problem));

        var result = await new TreeSync(new ManifestTree(_version, hash, entries), content, new CheckoutOptions(), cacheDirectory: null).RunAsync(target, CancellationToken.None);

        Assert.Equal(ExpectedSnapshot(), TreeSnapshot.Of(target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.True(result.Deleted >= 3);
    }

    [Fact]
    public void ManifestTree_EntryOutsideTheDirectoriesItMade_Refused()
    {
        var root = new ManifestEntry { Kind = FileKind.Directory, Path = [] };
        var hash = new byte[32];
        Assert.Contains("not inside a directory the manifest made", Assert.Throws<InvalidDataException>(() =>
            new ManifestTree(_version, hash, [root, new ManifestEntry { Kind = FileKind.Regular, Path = "etc/passwd"u8.ToArray() }])).Message, StringComparison.Ordinal);
        Assert.Contains("not inside", Assert.Throws<InvalidDataException>(() =>
            new ManifestTree(_version, hash, [root, new ManifestEntry { Kind = FileKind.Regular, Path = "../x"u8.ToArray() }])).Message, StringComparison.Ordinal);
        Assert.Contains("there twice", Assert.Throws<InvalidDataException>(() =>
            new ManifestTree(_version, hash, [root, new ManifestEntry { Kind = FileKind.Fifo, Path = "x"u8.ToArray() }, new ManifestEntry { Kind = FileKind.Directory, Path = "x"u8.ToArray() }])).Message, StringComparison.Ordinal);
        Assert.Contains("does not start with the root", Assert.Throws<InvalidDataException>(() =>
            new ManifestTree(_version, hash, [new ManifestEntry { Kind = FileKind.Fifo, Path = "x"u8.ToArray() }])).Message, StringComparison.Ordinal);
    }

    private Task<(List<ManifestEntry> Entries, byte[] Hash)> ManifestAsync()
    {
        var (manifest, sha) = ContentServer.Manifest(_repository, _version, CancellationToken.None);
        return Task.FromResult<(List<ManifestEntry>, byte[])>( (ManifestReader.Parse(System.Text.Encoding.UTF8.GetString(manifest)), Convert.FromHexString(sha)));
    }
}
