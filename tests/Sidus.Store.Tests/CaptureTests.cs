using System.Text;
using Sidus.Linux;
using Sidus.Store.Capture;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Trees;
using Sidus.Store.Diff;
using Sidus.Store.Sync;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// Capture of a golden client with the real walker in this process (two pipes instead of ssh): the version equals an
/// import of the same tree, a recapture sends only what changed, excludes leave out what they name, a dry run
/// lists the changes and records nothing. The ssh transport has its own end-to-end test.
/// </summary>
public sealed class CaptureTests : IDisposable
{
    private const string Source = "ssh://golden.example";
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void Capture_OfEveryKindOfFile_IsTheSameTreeAsAnImportOfIt()
    {
        var root = _store.Dir("golden");
        TreeFactory.Everything(root);
        // /etc/hostname is left out by default: renamed (a rename keeps its owner, xattrs and time), so both the
        // capture and the import see the same tree.
        File.Move(Path.Combine(root, "etc/hostname"), Path.Combine(root, "etc/host-name"));

        var (result, exitCode) = Capture("captured", root, _store.Dir("state") + "/capture.state");
        var imported = _store.Import("imported", root);

        Assert.Equal(0, exitCode);
        var captured = result.Version!;
        Assert.True(captured.Created);
        Assert.Equal(imported.Commit.Root.Tree, captured.Commit.Root.Tree);
        Assert.Empty(TreeDiff.Differences(imported.Commit.Root, captured.Commit.Root, compareTree: true));
        Assert.Empty(TreeDiff.Compare(_store.Repository, imported.Commit.Root, captured.Commit.Root));

        Assert.Equal(Environment.MachineName, result.Host);
        Assert.Equal($"capture of {Environment.MachineName} ({Source})", captured.Commit.Message);
        Assert.Equal(imported.Commit.Entries + 1, result.Entries); // The capture counts the root directory too.
        Assert.Equal(imported.Commit.Files, result.Files);
        // The capture's bytes count each name of a hard-linked file (the version's, each file once).
        var files = Paths(_store.Repository, captured.Commit.Root).Values.Where(e => e.Kind == FileKind.Regular).ToList();
        Assert.Equal(files.Sum(e => e.Size), result.Bytes);
        var contents = Contents(_store.Repository, captured.Commit.Root);
        Assert.Equal(contents.Count, result.ContentsSent);
        Assert.Equal(contents.Values.Sum(), result.ContentBytes);
        Assert.True(result.WireBytes < result.ContentBytes, $"{result.WireBytes} bytes on the wire for {result.ContentBytes}: compressed");
        Assert.Equal(CaptureExcludes.Defaults.Select(d => d.Path), result.Excludes);
    }

    [Fact]
    public void Capture_OfLargeFiles_StoresWhatAnImportStores()
    {
        // Files over 1 MiB are chunked as they stream in and their chunks stored by other threads: the version must
        // hold the same contents and chunks as an import, and check out to the same bytes.
        var root = _store.Dir("golden");
        Directory.CreateDirectory(Path.Combine(root, "usr/lib"));
        var random = FormatTests.XorShiftBytes(9 << 20);
        File.WriteAllBytes(Path.Combine(root, "usr/lib/random.so"), random);
        File.WriteAllBytes(Path.Combine(root, "usr/lib/copy.so"), random);
        File.WriteAllBytes(Path.Combine(root, "usr/lib/repeats"), [.. Enumerable.Range(0, 5 << 20).Select(i => (byte)(i % 253))]);
        File.WriteAllBytes(Path.Combine(root, "usr/lib/edited"), [.. random.AsSpan(0, 4 << 20), .. "an edit"u8, .. random.AsSpan(4 << 20)]);

        var captured = Capture("captured", root, null).Result.Version!;
        var imported = _store.Import("imported", root);

        Assert.Equal(imported.Commit.Root.Tree, captured.Commit.Root.Tree);
        var checkout = _store.Dir("checkout");
        TreeSync.Checkout(_store.Repository, captured.Id, checkout, new Sidus.Store.Checkout.CheckoutOptions(), CancellationToken.None);
        foreach (var name in new[] { "random.so", "copy.so", "repeats", "edited" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "usr/lib", name)), File.ReadAllBytes(Path.Combine(checkout, "usr/lib", name)));
        }
    }

    [Fact]
    public void Capture_StoresTheWalkersBlocksAsTheyCame_WhereTheyHoldWholeContents()
    {
        // Small and middle-sized files travel whole in one block, stored as it came (no second compression); a large
        // file's blocks hold nothing else and are chunked as an import chunks them; a block that did not shrink is
        // stored the usual way. Each reads back byte for byte.
        var root = _store.Dir("golden");
        var random = FormatTests.XorShiftBytes(3 << 20);
        var expected = new Dictionary<string, byte[]>();
        for (var i = 0; i < 300; i++)
        {
            expected[$"etc/conf-{i}"] = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"option-{i} = value {i * 7}\n", 20 + (i * 37 % 400))));
        }

        expected["usr/lib/middle.so"] = [.. Enumerable.Range(0, 700 << 10).Select(i => (byte)(i * 31 % 251 / 3))];
        expected["usr/lib/large.so"] = [.. random.AsSpan(0, 2 << 20), .. Enumerable.Repeat((byte)'x', 1 << 20)];
        expected["usr/lib/noise"] = random.AsSpan(2 << 20, 1_000_000).ToArray();
        expected["usr/lib/after"] = "a small file after the large ones"u8.ToArray();
        foreach (var (path, data) in expected)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, path))!);
            File.WriteAllBytes(Path.Combine(root, path), data);
        }

        var captured = Capture("captured", root, null).Result.Version!;

        Assert.Equal(_store.Import("imported", root).Commit.Root.Tree, captured.Commit.Root.Tree);
        var checkout = _store.Dir("checkout");
        TreeSync.Checkout(_store.Repository, captured.Id, checkout, new Sidus.Store.Checkout.CheckoutOptions(), CancellationToken.None);
        foreach (var (path, data) in expected)
        {
            Assert.True(data.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(checkout, path))), path);
        }

        // Where each content is in the capture's pack. The store's own frames are its objects end to end; a kept
        // block also holds each record's header, so its objects fill less of it.
        var pack = Directory.GetFiles(_store.Repository.PackDirectory, "*.idx").Select(f => PackFormat.DecodeIndex(File.ReadAllBytes(f), f))
            .Single(records => records.Count > 300);
        var records = pack.ToDictionary(r => r.Id);
        bool IsKeptBlock(IndexRecord record) => pack.Where(r => r.FrameOffset == record.FrameOffset).Sum(r => (long)r.Length) < record.FrameRawLength;
        var kept = expected.Where(p => p.Key.StartsWith("etc/", StringComparison.Ordinal) || p.Key is "usr/lib/middle.so" or "usr/lib/after")
            .Select(p => records[ObjectId.Hash(p.Value)]).ToList();
        Assert.All(kept, r => Assert.True(IsKeptBlock(r), $"content of {r.Length} bytes in a frame of the store's own"));
        Assert.True(kept.Select(r => r.FrameOffset).Distinct().Count() < kept.Count / 10, "kept blocks hold many contents each");
        // Nothing else is in a kept block but the records' headers (a part of the large file would be stored twice).
        Assert.All(kept.GroupBy(r => r.FrameOffset), frame => Assert.InRange(
            frame.First().FrameRawLength - frame.Sum(r => (long)r.Length), 1, frame.Count() * (1 + ObjectId.Size + 10)));
        Assert.False(IsKeptBlock(records[ObjectId.Hash(expected["usr/lib/noise"])]), "a block that did not shrink is not kept");
        Assert.All(pack.Where(r => r.Kind == ObjectKind.Blob && !kept.Contains(r)), r => Assert.False(IsKeptBlock(r), "a chunk in a kept block"));
    }

    [Fact]
    public void Recapture_SendsOnlyWhatChanged_AndNothingWhenNothingDid()
    {
        var root = _store.Dir("golden");
        Write(root, "etc/a", "aaaa");
        Write(root, "etc/b", "bbbb");
        Directory.CreateDirectory(Path.Combine(root, "usr"));
        File.WriteAllBytes(Path.Combine(root, "usr/big"), FormatTests.XorShiftBytes(300_000));
        // Where sidus-walk keeps it on a real client: under /var/lib/sidus, which every capture leaves out.
        var state = Path.Combine(root, "var/lib/sidus/capture.state");

        var first = Capture("golden", root, state).Result;
        Assert.Equal(3, first.ContentsSent);
        Assert.True(File.Exists(state), "the walker keeps its state cache");

        Write(root, "etc/a", "AAAA");
        Write(root, "etc/new", "a new file");
        var second = Capture("golden", root, state).Result;
        Assert.True(second.Version!.Created);
        Assert.Equal(2, second.ContentsSent);
        Assert.Equal(4 + 10, second.ContentBytes);
        var paths = Paths(_store.Repository, second.Version.Commit.Root);
        Assert.Contains("/var/lib", paths.Keys);
        Assert.DoesNotContain("/var/lib/sidus", paths.Keys);
        Assert.Equal(ObjectId.Hash("AAAA"u8), paths["/etc/a"].Content);

        var third = Capture("golden", root, state).Result;
        Assert.Equal(0, third.ContentsSent);
        Assert.Equal(0, third.ContentBytes);
        Assert.False(third.Version!.Created);
        Assert.Equal(second.Version.Id, _store.Repository.Refs.Head("golden"));

        // The cache is what spares the walker its reading: a record whose stat still matches is believed as it
        // is. Told that etc/b holds "AAAA" (same size), the walker sends that without reading the file.
        var cache = StateCache.Load(state)!;
        using (var etc = DirectoryHandle.Open(Path.Combine(root, "etc")))
        {
            var status = etc.Stat("b"u8.ToArray());
            Assert.NotNull(cache.Lookup("etc/b"u8.ToArray(), status));
            cache.Add("etc/b"u8.ToArray(), status, ObjectId.Hash("AAAA"u8), null, hasXattrs: false);
        }

        cache.Save(state);
        var trusting = Capture("golden", root, state).Result;
        Assert.Equal(ObjectId.Hash("AAAA"u8), Paths(_store.Repository, trusting.Version!.Commit.Root)["/etc/b"].Content);
    }

    [Fact]
    public void StateCache_IsWrittenWhileTheServerRecords_AndKeptOnlyWhenItDid()
    {
        var root = _store.Dir("golden");
        Write(root, "etc/a", "aaaa");
        var state = Path.Combine(root, "var/lib/sidus/capture.state");
        Capture("golden", root, state);
        var recorded = File.ReadAllBytes(state);
        Write(root, "etc/a", "a change the server never records");

        // The server's side by hand, up to the word it never sends: the tree, no contents wanted, then silence.
        using var walker = PipeWalker.Capture(root, state);
        CaptureProtocol.WriteRequest(walker.ToWalker, new CaptureRequest([], DryRun: false));
        var receiver = new CaptureReceiver(walker.FromWalker, null);
        receiver.ReceiveTree(CancellationToken.None);
        walker.ToWalker.Write([CaptureProtocol.WantedAnswer, 0]);
        walker.ToWalker.Flush();
        receiver.ReceiveContents(null, [], CancellationToken.None);
        // The new cache is written and flushed beside the old while the walker waits, so that recording it costs a
        // rename once the server has spoken.
        var staged = state + AtomicFile.TemporarySuffix;
        for (var wait = 0; !File.Exists(staged) && wait < 200; wait++)
        {
            Thread.Sleep(50);
        }

        Assert.True(File.Exists(staged), "the walker writes its next state cache before the server's answer");
        walker.ToWalker.Dispose(); // The server ends without its "recorded".
        Assert.Equal(1, walker.Finish());

        Assert.Equal(recorded, File.ReadAllBytes(state));
        Assert.False(File.Exists(staged), "the cache of a capture never recorded is removed");
        Assert.Contains("the server did not record the capture", walker.Errors);
    }

    [Fact]
    public void Recapture_ReadsAttributes_WhereTheStatMoved_OrTheCacheRecordedSome()
    {
        var root = _store.Dir("golden");
        Write(root, "etc/plain", "plain");
        Write(root, "etc/tagged", "tagged");
        using (var etc = DirectoryHandle.Open(Path.Combine(root, "etc")))
        {
            etc.SetXattr("tagged"u8, "user.sidus"u8, "one"u8);
        }

        var state = Path.Combine(root, "var/lib/sidus/capture.state");
        var first = Paths(_store.Repository, Capture("golden", root, state).Result.Version!.Commit.Root);
        Assert.Empty(first["/etc/plain"].Xattrs);
        Assert.Equal("one"u8.ToArray(), Assert.Single(first["/etc/tagged"].Xattrs).Value);

        // Setting an attribute moves the file's ctime: the walker reads it again. The file that had one keeps it.
        using (var etc = DirectoryHandle.Open(Path.Combine(root, "etc")))
        {
            etc.SetXattr("plain"u8, "user.sidus"u8, "two"u8);
        }

        var second = Capture("golden", root, state).Result;
        Assert.Equal(0, second.ContentsSent);
        var paths = Paths(_store.Repository, second.Version!.Commit.Root);
        Assert.Equal("two"u8.ToArray(), Assert.Single(paths["/etc/plain"].Xattrs).Value);
        Assert.Equal("one"u8.ToArray(), Assert.Single(paths["/etc/tagged"].Xattrs).Value);

        // A record whose stat matches and that says "no attributes" spares the walker its listxattr: told so of
        // etc/tagged, the walker leaves its attribute out, which shows the call was not made.
        var cache = StateCache.Load(state)!;
        using (var etc = DirectoryHandle.Open(Path.Combine(root, "etc")))
        {
            var status = etc.Stat("tagged"u8.ToArray());
            var recorded = cache.Lookup("etc/tagged"u8.ToArray(), status);
            Assert.True(recorded is { HasXattrs: true }, "the cache records that etc/tagged has attributes");
            cache.Add("etc/tagged"u8.ToArray(), status, recorded.Value.Content, null, hasXattrs: false);
        }

        cache.Save(state);
        var trusting = Paths(_store.Repository, Capture("golden", root, state).Result.Version!.Commit.Root);
        Assert.Empty(trusting["/etc/tagged"].Xattrs);
    }

    [Fact]
    public void Excludes_TheDefaultsTheImagesAndTheCommands_LeaveOutWhatTheyName()
    {
        var root = _store.Dir("golden");
        foreach (var file in new[]
        {
            "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub", "etc/ssh/sshd_config", "etc/machine-id",
            "var/log/syslog", "var/log/apt/history.log", "var/lib/sidus/node.key", "var/lib/dpkg/status",
            "opt/scratch/junk", "srv/secret/key", "srv/public/index",
        })
        {
            Write(root, file, file);
        }

        Write(root, "etc/sidus/capture.exclude", "# the image's own\n/opt/scratch/*\n\n");
        var options = new CaptureOptions { Excludes = ["/srv/secret"] };

        var first = Capture("golden", root, null, options).Result;
        var paths = Paths(_store.Repository, first.Version!.Commit.Root).Keys.ToHashSet();
        foreach (var absent in new[]
        {
            "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/machine-id", "/var/log/syslog",
            "/var/log/apt", "/var/lib/sidus", "/srv/secret",
        })
        {
            Assert.DoesNotContain(absent, paths);
        }

        // The image had no list yet: its scratch space is still taken this time.
        foreach (var present in new[] { "/etc/ssh/sshd_config", "/var/log", "/var/lib/dpkg/status", "/opt/scratch/junk", "/srv/public/index" })
        {
            Assert.Contains(present, paths);
        }

        Assert.Contains("/srv/secret", first.Excludes);
        Assert.DoesNotContain("/opt/scratch/*", first.Excludes);
        Assert.Equal(["/opt/scratch/*"], ImageCapture.ImageExcludes(_store.Repository, "golden"));

        // Now the image's list leaves out the scratch space: what the client has there is not taken (a new file, a
        // change), and what the image had there stays as it was, as rsync leaves excluded files on its receiver.
        Write(root, "opt/scratch/junk", "changed on the client");
        Write(root, "opt/scratch/new", "new on the client");
        var second = Capture("golden", root, null).Result;
        var entries = Paths(_store.Repository, second.Version!.Commit.Root);
        paths = entries.Keys.ToHashSet();
        Assert.Contains("/opt/scratch", paths);
        Assert.Equal(ObjectId.Hash("opt/scratch/junk"u8), entries["/opt/scratch/junk"].Content);
        Assert.DoesNotContain("/opt/scratch/new", paths);
        Assert.Contains("/srv/secret/key", paths);
        Assert.Contains("/opt/scratch/*", second.Excludes);
        Assert.DoesNotContain("/srv/secret", second.Excludes);
    }

    [Fact]
    public void Excluded_PathsTheImageHas_StayAsTheImageHasThem_OnlyWhereTheCaptureHasTheirDirectory()
    {
        // The image as built or imported: its fstab, hostname and logs, which every capture leaves out.
        var built = _store.Dir("built");
        foreach (var file in new[]
        {
            "etc/fstab", "etc/hostname", "etc/motd", "var/log/dpkg.log", "var/log/apt/history.log", "gone/etc/fstab",
            "etc/ssh/ssh_host_ed25519_key", "etc/ssh/sshd_config", "etc/machine-id",
        })
        {
            Write(built, file, "image's " + file);
        }

        _store.Import("golden", built);
        var root = _store.Dir("golden");
        foreach (var file in new[] { "etc/fstab", "etc/hostname", "etc/motd", "var/log/syslog" })
        {
            Write(root, file, "client's " + file);
        }

        var result = Capture("golden", root, null).Result;
        var entries = Paths(_store.Repository, result.Version!.Commit.Root);
        Assert.Equal(ObjectId.Hash("image's etc/fstab"u8), entries["/etc/fstab"].Content);
        Assert.Equal(ObjectId.Hash("image's etc/hostname"u8), entries["/etc/hostname"].Content);
        Assert.Equal(ObjectId.Hash("client's etc/motd"u8), entries["/etc/motd"].Content);
        Assert.Equal(ObjectId.Hash("image's var/log/dpkg.log"u8), entries["/var/log/dpkg.log"].Content);
        Assert.Equal(ObjectId.Hash("image's var/log/apt/history.log"u8), entries["/var/log/apt/history.log"].Content);
        Assert.DoesNotContain("/var/log/syslog", entries.Keys);
        // A directory the client does not have is gone, excluded files under it too.
        Assert.DoesNotContain("/gone", entries.Keys);
        Assert.DoesNotContain("/gone/etc/fstab", entries.Keys);
        Assert.Equal(1, result.ContentsSent);
        // A machine's identity is never kept, even where the image had it.
        Assert.DoesNotContain("/etc/ssh/ssh_host_ed25519_key", entries.Keys);
        Assert.DoesNotContain("/etc/machine-id", entries.Keys);

        // A directory excluded whole keeps what the image had there, but not the keys under it.
        _store.Import("golden", built);
        Write(root, "etc/ssh/sshd_config", "client's sshd_config");
        var whole = Capture("golden", root, null, new CaptureOptions { Excludes = ["/etc/ssh"] }).Result;
        entries = Paths(_store.Repository, whole.Version!.Commit.Root);
        Assert.Equal(ObjectId.Hash("image's etc/ssh/sshd_config"u8), entries["/etc/ssh/sshd_config"].Content);
        Assert.DoesNotContain("/etc/ssh/ssh_host_ed25519_key", entries.Keys);
    }

    [Theory]
    [InlineData("etc/secret")]
    [InlineData("/etc/../root")]
    public void Excludes_NotAbsolute_AreRefusedBeforeTheWalkerIsAsked(string exclude)
    {
        var before = StoreListing.Of(_store.Home);
        var channel = new ScriptedChannel([]);

        var e = Assert.Throws<StoreException>(() => ImageCapture.Run(_store.Images, "golden", Source, channel,
            new CaptureOptions { Excludes = [exclude] }, null, CancellationToken.None));

        Assert.Equal(StoreErrorKind.Usage, e.Kind);
        Assert.Contains($"exclude '{exclude}' is not an absolute path", e.Message);
        Assert.Equal(0, channel.Sent.Length);
        Assert.Equal(before, StoreListing.Of(_store.Home));
    }

    [Fact]
    public void DryRun_ListsEveryChangedPath_AndRecordsNothing()
    {
        var root = _store.Dir("golden");
        Write(root, "etc/kept", "kept");
        Write(root, "etc/changed", "one");
        Write(root, "etc/removed", "removed");
        Write(root, "usr/lib/x", "x");
        var state = _store.Dir("state") + "/capture.state";
        var first = Capture("golden", root, state).Result;
        var stateTime = File.GetLastWriteTimeUtc(state);

        Write(root, "etc/changed", "two");
        File.Delete(Path.Combine(root, "etc/removed"));
        Write(root, "etc/added", "added");
        var before = StoreListing.Of(_store.Home);
        var dry = Capture("golden", root, state, new CaptureOptions { DryRun = true }).Result;

        Assert.Null(dry.Version);
        Assert.Equal(0, dry.ContentsSent);
        Assert.Equal(
            ["Added etc/added", "Modified etc", "Modified etc/changed", "Removed etc/removed"],
            dry.Changes!.Select(c => $"{c.Kind} {LinuxException.Printable(c.Path)}").Order(StringComparer.Ordinal));
        Assert.Contains("content", dry.Changes!.Single(c => c.Path.AsSpan().SequenceEqual("etc/changed"u8)).What);
        Assert.Equal(first.Version!.Id, _store.Repository.Refs.Head("golden"));
        Assert.Equal(before, StoreListing.Of(_store.Home));
        Assert.Equal(stateTime, File.GetLastWriteTimeUtc(state));
    }

    [Fact]
    public void DryRun_OfAnUnchangedTree_ReportsNothing_HardLinksIncluded()
    {
        var root = _store.Dir("golden");
        TreeFactory.Everything(root);
        Capture("golden", root, null);

        var dry = Capture("golden", root, null, new CaptureOptions { DryRun = true }).Result;

        Assert.Empty(dry.Changes!.Select(c => $"{c.Kind} {LinuxException.Printable(c.Path)} {string.Join(',', c.What)}"));
    }

    [Fact]
    public void SymlinkLoops_AreCapturedAsSymlinks_NeverFollowed()
    {
        // Neither side follows a symlink: the walker reads links with lstat/readlink and the server stores the
        // target as bytes. A loop is only data, as on the client, and the capture ends.
        var root = _store.Dir("golden");
        Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
        File.CreateSymbolicLink(Path.Combine(root, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(root, "b"), "a");
        File.CreateSymbolicLink(Path.Combine(root, "usr/bin/X11"), ".");

        var result = Capture("golden", root, null).Result;

        var paths = Paths(_store.Repository, result.Version!.Commit.Root);
        Assert.Equal(6, result.Entries); // /, a, b, usr, usr/bin, X11.
        Assert.Equal("b", Encoding.UTF8.GetString(paths["/a"].Target!));
        Assert.Equal("a", Encoding.UTF8.GetString(paths["/b"].Target!));
        Assert.Equal(FileKind.Symlink, paths["/usr/bin/X11"].Kind);
        Assert.Equal(".", Encoding.UTF8.GetString(paths["/usr/bin/X11"].Target!));
    }

    /// <summary>
    /// A file changed within the walk's last seconds is hashed and captured but not kept in the state cache: a
    /// change in the same clock tick after the walker read it would leave its stat as recorded, and the next capture
    /// would believe the old content for good. The next capture reads it again; settled files are kept.
    /// </summary>
    [Fact]
    public void Capture_FilesChangedJustBefore_AreNotKeptInTheStateCache()
    {
        var root = _store.Dir("golden");
        Write(root, "etc/fresh", "fresh");
        var state = Path.Combine(root, "var/lib/sidus/capture.state");
        var fresh = "etc/fresh"u8.ToArray();
        FileStatus Status()
        {
            using var etc = DirectoryHandle.Open(Path.Combine(root, "etc"));
            return etc.Stat("fresh"u8.ToArray());
        }

        // A window of an hour stands for the walker's 2 s: the file is "just changed" however slow this host is.
        var first = Capture("golden", root, state, racyWindow: TimeSpan.FromHours(1)).Result;
        Assert.Equal(ObjectId.Hash("fresh"u8), Paths(_store.Repository, first.Version!.Commit.Root)["/etc/fresh"].Content);
        Assert.Null(StateCache.Load(state)!.Lookup(fresh, Status()));

        // Same content, a stat changed only in the same tick: believed from the cache were it kept, read here.
        Capture("golden", root, state, racyWindow: TimeSpan.FromHours(-1));
        Assert.NotNull(StateCache.Load(state)!.Lookup(fresh, Status()));
    }

    private (CaptureResult Result, int ExitCode) Capture(string image, string root, string? statePath, CaptureOptions? options = null,
        TimeSpan? racyWindow = null)
    {
        using var walker = PipeWalker.Capture(root, statePath, racyWindow);
        var result = ImageCapture.Run(_store.Images, image, Source, walker, options ?? new CaptureOptions(), null, CancellationToken.None);
        var exitCode = walker.Finish();
        Assert.True(exitCode == 0, "the walker failed: " + walker.Errors);
        return (result, exitCode);
    }

    private static void Write(string root, string path, string text)
    {
        var full = Path.Combine(root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    /// <summary>Every path of a stored tree ("/etc/a"), with its entry.</summary>
    internal static Dictionary<string, TreeEntry> Paths(Repository repository, TreeEntry root)
    {
        var paths = new Dictionary<string, TreeEntry>(StringComparer.Ordinal);
        void Walk(ObjectId tree, string prefix)
        {
            foreach (var entry in repository.ReadTree(tree))
            {
                var path = prefix + "/" + LinuxException.Printable(entry.Name);
                paths[path] = entry;
                if (entry.Kind == FileKind.Directory)
                {
                    Walk(entry.Tree, path);
                }
            }
        }

        Walk(root.Tree, "");
        return paths;
    }

    /// <summary>The distinct contents of a stored tree with data, and their lengths.</summary>
    private static Dictionary<ObjectId, long> Contents(Repository repository, TreeEntry root) =>
        Paths(repository, root).Values.Where(e => e.Kind == FileKind.Regular && e.DataLength > 0)
            .GroupBy(e => e.Content).ToDictionary(g => g.Key, g => g.First().DataLength);
}
