using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sidus.E2E.Tests.Support;
using Sidus.Store.Capture;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// `sidus image capture` of a golden client through Debian's real sshd and OpenSSH client: a fresh debootstrap'd
/// Debian root served in a network namespace of the test's own. The captured version is judged byte for byte by
/// rsync -naHAXc and a stat/xattr walk; a recapture after a package is installed sends only that package's files;
/// host keys are checked; a capture killed with SIGKILL leaves the store as it was and the next one completes.
/// </summary>
public sealed class CaptureTests(ITestOutputHelper output)
{
    private static readonly Lazy<string> Walker = new(PublishWalker);
    private string _namespace = "";

    [Fact]
    public void GoldenClient_CapturedOverSsh_EqualsItsTree_RecaptureSendsOnlyTheChange_HostKeysChecked_KillLosesNothing()
    {
        var repository = BootImageFixture.RepositoryRoot();
        using var root = FreshDebianRoot.Create(repository);
        using var ns = new NetworkNamespace();
        using var client = new GoldenClient(ns, root.Location);
        _namespace = ns.Name;
        var home = TestWorkDirectory.Create("sidus-capture-home-");
        var checkout = TestWorkDirectory.Create("sidus-capture-out-");
        try
        {
            // A walker an older sidus kept on the client: replaced by this one's.
            var keptDir = root.Inside(Path.GetDirectoryName(CaptureWalker.DefaultStatePath)!);
            Directory.CreateDirectory(keptDir);
            var stale = Path.Combine(keptDir, "sidus-walk-" + new string('0', 64));
            File.WriteAllText(stale, "an older walker");

            // The first capture: every content travels (compressed).
            var clock = Stopwatch.StartNew();
            var first = CaptureJson(home, client, "golden");
            output.WriteLine($"first capture: {clock.Elapsed.TotalSeconds:0.0} s, {first}");
            Assert.True((bool)first["result"]!["created"]!);
            var files = (long)first["files"]!;
            Assert.True(files > 3000, $"a debootstrap'd root holds thousands of files, the capture saw {files}");
            Assert.True((long)first["contents_sent"]! > 2000);
            Assert.True((long)first["wire_bytes"]! < (long)first["content_bytes"]!, "the contents travel compressed");

            // Byte for byte, apart from the excludes (and /proc, a mount point whose directory the capture sees as procfs's root).
            var excluded = CaptureExcludes.Defaults.Select(d => d.Path).Append("/proc").ToList();
            Sidus(home, "image", "checkout", "golden@1", Path.Combine(checkout, "v1"), "-q");
            Assert.Equal("", TreeComparison.Rsync(root.Location, Path.Combine(checkout, "v1"), excluded));
            var (walkCode, walk) = TreeComparison.StatAndXattrs(root.Location, Path.Combine(checkout, "v1"), excluded);
            output.WriteLine("stat/xattr walk: " + walk.Trim());
            Assert.True(walkCode == 0, walk);
            Assert.False(File.Exists(Path.Combine(checkout, "v1", "etc/machine-id")) && File.Exists(root.Inside("/etc/machine-id")) &&
                         new FileInfo(root.Inside("/etc/machine-id")).Length > 0 && File.ReadAllText(Path.Combine(checkout, "v1", "etc/machine-id")) ==
                         File.ReadAllText(root.Inside("/etc/machine-id")), "the client's machine-id is never captured");
            Assert.True(File.Exists(root.Inside(CaptureWalker.DefaultStatePath)), "the walker keeps its state cache on the client");
            Assert.False(Directory.Exists(Path.Combine(checkout, "v1", "var/lib/sidus")), "the state cache is never part of the image");

            // Nothing of the walker is left in the temporary directories; a copy is kept beside the state cache, named
            // by its SHA-256, root's alone, and the older one is gone.
            Assert.Equal("", client.Ssh("ls -d /dev/shm/sidus-walk.* /tmp/sidus-walk.* 2>/dev/null; true").Output.Trim());
            var kept = root.Inside(KeptWalker.PathFor(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Walker.Value)))));
            Assert.Equal([kept], Directory.GetFiles(keptDir, "sidus-walk-*"));
            Assert.Equal(File.ReadAllBytes(Walker.Value), File.ReadAllBytes(kept));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(kept));
            Assert.True((long)first["walker_bytes"]! > 500_000, $"the first capture sends the walker: {first["walker_bytes"]}");

            // A package installed on the client: the recapture sends only its files, and a dry run before it lists them.
            InstallPackage(root);
            var dry = Sidus(home, ["image", "capture", "golden", client.Url, "--dry-run", .. client.CaptureOptions()]);
            Assert.Contains("+ /usr/bin/sidus-capture-hello", dry.Output);
            Assert.Contains("M /var/lib/dpkg/status", dry.Output);
            Assert.Single(ImageVersions(home, "golden"));
            clock.Restart();
            var second = CaptureJson(home, client, "golden");
            output.WriteLine($"recapture: {clock.Elapsed.TotalSeconds:0.0} s, {second}");
            var sent = (long)second["contents_sent"]!;
            var diff = Sidus(home, "image", "diff", "golden@1", "golden@2").Output;
            output.WriteLine(diff);
            var changedContents = diff.Split('\n').Count(line => line.StartsWith("+ ", StringComparison.Ordinal) && !line.EndsWith('/') ||
                                                                 line.Contains("content", StringComparison.Ordinal));
            Assert.InRange(sent, 2, changedContents);
            Assert.True((long)second["wire_bytes"]! < (long)first["wire_bytes"]! / 20,
                $"the recapture sent {second["wire_bytes"]} bytes, the first {first["wire_bytes"]}");
            Assert.Equal(0L, (long)second["walker_bytes"]!); // the client ran the walker it kept
            Sidus(home, "image", "checkout", "golden@2", Path.Combine(checkout, "v2"), "-q");
            Assert.Equal("", TreeComparison.Rsync(root.Location, Path.Combine(checkout, "v2"), excluded));

            // Unchanged client: no new version. Its kept walker was damaged (a torn write): it is sent and kept again.
            File.WriteAllBytes(kept, File.ReadAllBytes(Walker.Value)[..4096]);
            var third = CaptureJson(home, client, "golden");
            Assert.False((bool)third["result"]!["created"]!);
            Assert.Equal(0L, (long)third["contents_sent"]!);
            Assert.True((long)third["walker_bytes"]! > 500_000, "a kept walker that does not start is sent again");
            Assert.Equal(File.ReadAllBytes(Walker.Value), File.ReadAllBytes(kept));

            // Two captures of one client at once: one records the change; the other records nothing, saying the image
            // moved while it ran (or, started after it, finds no change). The store stays whole.
            File.AppendAllText(root.Inside("/etc/issue"), "changed for two captures at once\n");
            var both = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
                Sidus(home, ["image", "capture", "golden", client.Url, .. client.CaptureOptions()], expectSuccess: false))).ToArray();
            foreach (var (code, _, error) in both.Select(t => t.Result))
            {
                output.WriteLine($"two at once: exit {code}: {error.Trim()}");
                Assert.True(code == 0 || error.Contains("got a new version while this ran", StringComparison.Ordinal), error);
            }

            Assert.Equal(3, ImageVersions(home, "golden").Count);
            Sidus(home, "store", "verify");

            // Host keys: an unknown one and a changed one are refused, and nothing is recorded.
            var empty = Path.Combine(home, "empty_known_hosts");
            File.WriteAllText(empty, "");
            var unknown = Sidus(home, ["image", "capture", "golden", client.Url, .. client.CaptureOptions(empty)], expectSuccess: false);
            Assert.NotEqual(0, unknown.Code);
            Assert.Contains("host key", unknown.Error);
            var other = Path.Combine(home, "other_key");
            Tool.Run(Tool.Require("ssh-keygen", "openssh-client"), "-q", "-t", "ed25519", "-N", "", "-f", other);
            var changed = Path.Combine(home, "changed_known_hosts");
            File.WriteAllText(changed, $"{GoldenClient.Address} {File.ReadAllText(other + ".pub").Trim()}\n");
            var mismatch = Sidus(home, ["image", "capture", "golden", client.Url, .. client.CaptureOptions(changed)], expectSuccess: false);
            Assert.NotEqual(0, mismatch.Code);
            Assert.Contains("host key", mismatch.Error);
            output.WriteLine("changed host key: " + mismatch.Error.Trim());
            Assert.Equal(3, ImageVersions(home, "golden").Count);

            // kill -9 of the capture while contents travel: the store is as it was, the next capture completes.
            KillMidCapture(home, client);
            Assert.DoesNotContain("copy", Sidus(home, "image", "list").Output);
            Sidus(home, "store", "verify");
            var again = CaptureJson(home, client, "copy");
            Assert.True((bool)again["result"]!["created"]!);
            Assert.Equal(0L, (long)again["contents_sent"]!); // the same tree as golden@3's: every content is in the store
            Assert.Equal("", client.Ssh("ls -d /dev/shm/sidus-walk.* /tmp/sidus-walk.* 2>/dev/null; true").Output.Trim());

            CaptureThroughSudo(home, root, client, Path.Combine(checkout, "sudo"), excluded);

            // --keep-nothing: the walker is sent (the kept copy is not used), no state cache is kept, and what earlier
            // captures kept is removed; a file of another program in /var/lib/sidus stays, and so does the directory.
            var others = root.Inside("/var/lib/sidus/agent.state");
            File.WriteAllText(others, "a node agent's own file");
            File.AppendAllText(root.Inside("/etc/issue"), "changed for a capture that keeps nothing\n");
            var bare = CaptureJson(home, client, "golden", null, "--keep-nothing");
            output.WriteLine("--keep-nothing: " + bare);
            Assert.True((bool)bare["result"]!["created"]!);
            Assert.True((long)bare["walker_bytes"]! > 500_000, "the walker kept on the client is not used");
            Assert.Equal([others], Directory.GetFileSystemEntries(root.Inside("/var/lib/sidus")));
            File.Delete(others);
            CaptureJson(home, client, "golden"); // keeps its state cache and walker again
            var last = CaptureJson(home, client, "golden", null, "--keep-nothing");
            Assert.False((bool)last["result"]!["created"]!);
            Assert.False(Directory.Exists(root.Inside("/var/lib/sidus")), "nothing of sidus is left on the client");
            Assert.Equal("", client.Ssh("ls -d /dev/shm/sidus-walk.* /tmp/sidus-walk.* 2>/dev/null; true").Output.Trim());
        }
        finally
        {
            var failures = new List<Exception>();
            TestWorkDirectory.Remove(home, failures);
            TestWorkDirectory.Remove(checkout, failures);
        }
    }

    /// <summary>
    /// A golden client with nothing but busybox and the C library it needs: no OpenSSL, no libzstd (a minimal or
    /// older system). The walker, one static executable, captures it byte for byte, its contents compressed; it runs
    /// even where there is no C library at all. Where /dev/shm and /tmp are mounted noexec (hardened systems) it runs
    /// from /var/tmp and leaves nothing there; where nothing lets it run, and on a client of another architecture,
    /// the capture stops saying so, recording nothing.
    /// </summary>
    [Fact]
    public void MinimalClient_WithoutOpenSslOrZstd_IsCaptured_TheWalkerRunsWhereItMay()
    {
        var tree = MinimalClientTree();
        using var ns = new NetworkNamespace();
        using var client = new GoldenClient(ns, tree);
        _namespace = ns.Name;
        var home = TestWorkDirectory.Create("sidus-capture-home-");
        var checkout = TestWorkDirectory.Create("sidus-capture-out-");
        try
        {
            var libraries = Directory.EnumerateFiles(tree, "lib*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
            Assert.DoesNotContain(libraries, name => name!.StartsWith("libssl", StringComparison.Ordinal) || name.StartsWith("libcrypto", StringComparison.Ordinal) ||
                                                     name.StartsWith("libzstd", StringComparison.Ordinal));
            var empty = Path.Combine(home, "empty-root");
            Directory.CreateDirectory(empty);
            File.Copy(Walker.Value, Path.Combine(empty, "sidus-walk"));
            var (probeCode, probe) = Tool.TryRun(TimeSpan.FromSeconds(30), Tool.Require("chroot", "coreutils"), empty, "/sidus-walk", "probe");
            Assert.True(probeCode == 0, "the walker runs in a root that holds nothing else: " + probe);

            var first = CaptureJson(home, client, "minimal");
            output.WriteLine("minimal client: " + first);
            Assert.True((bool)first["result"]!["created"]!);
            Assert.True((long)first["wire_bytes"]! < (long)first["content_bytes"]! / 2, "zstd is linked into the walker: the contents travel compressed");
            Sidus(home, "image", "checkout", "minimal@1", Path.Combine(checkout, "v1"), "-q");
            var excluded = CaptureExcludes.Defaults.Select(d => d.Path).Append("/proc").ToList();
            Assert.Equal("", TreeComparison.Rsync(tree, Path.Combine(checkout, "v1"), excluded));

            // /dev/shm and /tmp noexec: the walker runs from /var/tmp and removes itself from there. /var/lib/sidus,
            // where the first capture kept the walker, is noexec too (/var on a hardened system): the walker found
            // there is not run, and not written again (it could not run either).
            var kept = KeptWalker.PathFor(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Walker.Value))));
            Assert.True(File.Exists(Path.Combine(tree, kept.TrimStart('/'))), "the first capture keeps the walker beside the state cache");
            Assert.Equal(0, client.Ssh($"mount -t tmpfs -o noexec,mode=0700 kept /var/lib/sidus && echo not rewritten > {kept} && chmod 700 {kept} && " +
                                       "mount -o remount,noexec /dev/shm && mount -t tmpfs -o noexec,mode=1777 tmp /tmp").Code);
            var fromVarTmp = CaptureJson(home, client, "minimal");
            output.WriteLine("noexec /dev/shm, /tmp and /var/lib/sidus: " + fromVarTmp);
            Assert.True((long)fromVarTmp["walker_bytes"]! > 500_000);
            Assert.True((bool)fromVarTmp["result"]!["created"]!, "recorded (/tmp, now a mount point, has the tmpfs root's times)");
            Assert.Equal("", client.Ssh("ls -A /var/tmp /tmp /dev/shm").Output.Replace("/var/tmp:", "").Replace("/tmp:", "").Replace("/dev/shm:", "").Trim());
            Assert.Equal("not rewritten", client.Ssh($"cat {kept}").Output.Trim());

            // Nowhere to run: said, nothing recorded, nothing left.
            Assert.Equal(0, client.Ssh("mount -t tmpfs -o noexec,mode=1777 vartmp /var/tmp && mount -t tmpfs -o noexec,mode=0700 roothome /root").Code);
            var nowhere = Sidus(home, ["image", "capture", "minimal", client.Url, .. client.CaptureOptions()], expectSuccess: false);
            output.WriteLine("all noexec: " + nowhere.Error.Trim());
            Assert.NotEqual(0, nowhere.Code);
            Assert.Contains("no directory on the client lets the walker run", nowhere.Error);
            Assert.Contains("Permission denied", nowhere.Error); // the shell's own words for a noexec directory
            Assert.Contains("remount one of them without it", nowhere.Error);
            Assert.Contains("Nothing was recorded", nowhere.Error);
            Assert.Equal(0, client.Ssh("cd / && umount /root /var/tmp /tmp /var/lib/sidus && mount -o remount,exec /dev/shm").Code);

            // A login that prints before the capture's script runs (a chatty startup file): refused, saying what to
            // change. One that never answers (a startup file waiting on something): cut off after --timeout.
            client.KeyOptions("command=\"echo Welcome to the lab; eval \\\"$SSH_ORIGINAL_COMMAND\\\"\"");
            var chatty = Sidus(home, ["image", "capture", "minimal", client.Url, .. client.CaptureOptions()], expectSuccess: false);
            output.WriteLine("a login that prints: " + chatty.Error.Trim());
            Assert.Contains("printed 'Welcome to the lab' before the capture's script ran", chatty.Error);
            client.KeyOptions("command=\"cat >/dev/null\"");
            var clock = Stopwatch.StartNew();
            var hung = Sidus(home, ["image", "capture", "minimal", client.Url, "--timeout", "3", .. client.CaptureOptions()], expectSuccess: false);
            output.WriteLine($"a login that never answers, after {clock.Elapsed.TotalSeconds:0.0} s: " + hung.Error.Trim());
            Assert.Contains("gave no answer in 3 s", hung.Error);
            Assert.Contains("Nothing was recorded", hung.Error);
            Assert.InRange(clock.Elapsed.TotalSeconds, 3, 60);
            client.KeyOptions("");
            Assert.Equal(2, ImageVersions(home, "minimal").Count);

            // Another architecture: refused before the walker is written anywhere.
            var uname = Path.Combine(tree, "bin/uname");
            File.Delete(uname);
            File.WriteAllText(uname, "#!/bin/sh\necho aarch64\n");
            File.SetUnixFileMode(uname, (UnixFileMode)0x1ED);
            var foreign = Sidus(home, ["image", "capture", "minimal", client.Url, .. client.CaptureOptions()], expectSuccess: false);
            output.WriteLine("aarch64 client: " + foreign.Error.Trim());
            Assert.Contains("the client is aarch64, and this sidus has a walker for x86_64 only", foreign.Error);
            Assert.Contains("a sidus built for its architecture", foreign.Error);
            Assert.Equal(2, ImageVersions(home, "minimal").Count); // the refused captures recorded nothing
        }
        finally
        {
            var failures = new List<Exception>();
            TestWorkDirectory.Remove(home, failures);
            TestWorkDirectory.Remove(checkout, failures);
            TestWorkDirectory.Remove(tree, failures);
        }
    }

    /// <summary>
    /// A root of the host's busybox, the libraries ldd names for it (the C library only) and what sshd and the
    /// capture's script need: /dev/null, /proc, /dev/shm, /tmp, /var/tmp, root's home; and a few files to capture.
    /// </summary>
    private static string MinimalClientTree()
    {
        var tree = TestWorkDirectory.Create("sidus-minimal-client-");
        File.SetUnixFileMode(tree, (UnixFileMode)0x1ED); // sshd's ChrootDirectory: root's, closed to others' writes
        foreach (var dir in new[] { "bin", "dev/shm", "proc", "tmp", "var/tmp", "root", "etc", "srv/data" })
        {
            Directory.CreateDirectory(Path.Combine(tree, dir));
        }

        File.SetUnixFileMode(Path.Combine(tree, "tmp"), (UnixFileMode)0x3FF);
        File.SetUnixFileMode(Path.Combine(tree, "var/tmp"), (UnixFileMode)0x3FF);
        // Named from global::, as this class has a method Sidus and this project's Support a Tool of its own.
        global::Sidus.Testing.Busybox.CopyInto(tree, ["sh", "uname", "mktemp", "dd", "gzip", "chmod", "rm", "cp", "id", "true", "mount", "umount", "ls", "cat"]);

        Tool.Run(Tool.Require("mknod", "coreutils"), "-m", "666", Path.Combine(tree, "dev/null"), "c", "1", "3");
        File.WriteAllText(Path.Combine(tree, "srv/data/notes.txt"), string.Concat(Enumerable.Repeat("a line the golden client keeps\n", 40_000)));
        File.CreateSymbolicLink(Path.Combine(tree, "srv/data/latest"), "notes.txt");
        Tool.Run(Tool.Require("ln", "coreutils"), Path.Combine(tree, "srv/data/notes.txt"), Path.Combine(tree, "srv/data/notes-again.txt"));
        return tree;
    }

    /// <summary>
    /// A user who logs in with a key and becomes root with Debian's real sudo: without --sudo the walker refuses (it
    /// would miss root's files), with --sudo and no rule for the user sudo's refusal is named, with a NOPASSWD rule the
    /// capture equals the tree (files only root reads included).
    /// </summary>
    private void CaptureThroughSudo(string home, FreshDebianRoot root, GoldenClient client, string checkout, List<string> excluded)
    {
        var (code, text) = root.Run(TimeSpan.FromMinutes(5), "sh", "-c",
            $"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sudo && rm -rf /var/lib/apt/lists/* && " +
            $"echo '{GoldenClient.User}:x:1500:' >> /etc/group && echo '{GoldenClient.UserEntry}' >> /etc/passwd && " +
            $"echo '{GoldenClient.User}:*:20000:0:99999:7:::' >> /etc/shadow && mkdir -m 700 /home/{GoldenClient.User} && chown 1500:1500 /home/{GoldenClient.User}");
        Assert.True(code == 0, text);
        var versions = ImageVersions(home, "golden").Count;

        var notRoot = Sidus(home, ["image", "capture", "golden", client.UserUrl, .. client.CaptureOptions()], expectSuccess: false);
        output.WriteLine("as a user, no --sudo: " + notRoot.Error.Trim());
        Assert.NotEqual(0, notRoot.Code);
        Assert.Contains($"runs as {GoldenClient.User}, not root", notRoot.Error);
        Assert.Contains("--sudo", notRoot.Error);

        var noRule = Sidus(home, ["image", "capture", "golden", client.UserUrl, "--sudo", .. client.CaptureOptions()], expectSuccess: false);
        output.WriteLine("--sudo, no sudo rule: " + noRule.Error.Trim());
        Assert.NotEqual(0, noRule.Code);
        Assert.Contains("sudo refused", noRule.Error);
        Assert.Contains("NOPASSWD", noRule.Error);
        Assert.Equal(versions, ImageVersions(home, "golden").Count);

        var rule = root.Inside($"/etc/sudoers.d/{GoldenClient.User}");
        File.WriteAllText(rule, $"{GoldenClient.User} ALL=(root) NOPASSWD: ALL\n");
        File.SetUnixFileMode(rule, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        var bySudo = CaptureJson(home, client, "golden", client.UserUrl, "--sudo");
        output.WriteLine("--sudo: " + bySudo);
        Assert.True((bool)bySudo["result"]!["created"]!);
        Assert.True((long)bySudo["contents_sent"]! > 0, "sudo's own files are new to the store");
        Sidus(home, "image", "checkout", $"golden@{versions + 1}", checkout, "-q");
        Assert.Equal("", TreeComparison.Rsync(root.Location, checkout, excluded));
        Assert.True(File.Exists(Path.Combine(checkout, "etc/sudoers.d", GoldenClient.User)), "root's 0440 files are captured");
        Assert.Equal("", client.Ssh("ls -d /dev/shm/sidus-walk.* /tmp/sidus-walk.* 2>/dev/null; true").Output.Trim());
    }

    private void KillMidCapture(string home, GoldenClient client)
    {
        // A new image of the same client with a store that lacks nothing would send no contents: a fresh store does.
        var fresh = Path.Combine(home, "fresh");
        var start = SidusStart(fresh, ["image", "capture", "copy", client.Url, .. client.CaptureOptions()]);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // Killed once the pack being written in the store's staging directory holds a few MiB: mid-transfer.
        var staging = Path.Combine(fresh, "store", "tmp");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        long written = 0;
        while (DateTime.UtcNow < deadline && !process.HasExited && written < 8 << 20)
        {
            Thread.Sleep(20);
            written = Directory.Exists(staging)
                ? new DirectoryInfo(staging).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Exists ? f.Length : 0)
                : 0;
        }

        if (process.HasExited)
        {
            Assert.Fail("the capture ended before it could be killed: " + stderr.Result);
        }

        process.Kill(entireProcessTree: true); // SIGKILL to sidus (under ip netns exec) and its ssh
        process.WaitForExit();
        output.WriteLine($"killed with {written >> 20} MiB written to the staging pack: exit {process.ExitCode}, {stderr.Result.Trim()} {stdout.Result.Trim()}");
        Assert.DoesNotContain("copy", Sidus(fresh, "image", "list").Output);
        Sidus(fresh, "store", "verify");
        var done = CaptureJson(fresh, client, "copy");
        Assert.True((bool)done["result"]!["created"]!);
        Assert.True((long)done["contents_sent"]! > 2000);
    }

    /// <summary>A real package, made with dpkg-deb and installed by the client's own dpkg: its files, dpkg's
    /// status and its info files are what changed.</summary>
    private static void InstallPackage(FreshDebianRoot root)
    {
        var package = Path.Combine(root.Location, "tmp", "sidus-capture-hello");
        Directory.CreateDirectory(Path.Combine(package, "DEBIAN"));
        Directory.CreateDirectory(Path.Combine(package, "usr/bin"));
        Directory.CreateDirectory(Path.Combine(package, "usr/share/doc/sidus-capture-hello"));
        File.WriteAllText(Path.Combine(package, "DEBIAN/control"),
            "Package: sidus-capture-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: Sidus tests <tests@sidus.invalid>\nDescription: a package the capture test installs\n");
        File.WriteAllText(Path.Combine(package, "usr/bin/sidus-capture-hello"), "#!/bin/sh\necho hello from the golden client\n");
        File.SetUnixFileMode(Path.Combine(package, "usr/bin/sidus-capture-hello"), (UnixFileMode)0x1ED);
        File.WriteAllText(Path.Combine(package, "usr/share/doc/sidus-capture-hello/README"), string.Concat(Enumerable.Repeat("a file of the package\n", 500)));
        var (code, text) = root.Run(TimeSpan.FromMinutes(2), "sh", "-c",
            "dpkg-deb --root-owner-group --build /tmp/sidus-capture-hello /tmp/sidus-capture-hello.deb && dpkg -i /tmp/sidus-capture-hello.deb && rm -rf /tmp/sidus-capture-hello /tmp/sidus-capture-hello.deb");
        Assert.True(code == 0, text);
    }

    private JsonObject CaptureJson(string home, GoldenClient client, string image, string? url = null, params string[] more) =>
        JsonNode.Parse(Sidus(home, ["image", "capture", image, url ?? client.Url, "--json", .. more, .. client.CaptureOptions()]).Output)!.AsObject();

    private List<JsonNode?> ImageVersions(string home, string image) =>
        [.. JsonNode.Parse(Sidus(home, "image", "log", image, "--json").Output)!.AsArray()];

    private (int Code, string Output, string Error) Sidus(string home, params string[] arguments) => Sidus(home, arguments, expectSuccess: true);

    private (int Code, string Output, string Error) Sidus(string home, string[] arguments, bool expectSuccess = true)
    {
        using var process = Process.Start(SidusStart(home, arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("sidus " + string.Join(' ', arguments));
        }

        var result = (process.ExitCode, stdout.Result, stderr.Result);
        if (expectSuccess && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"sidus {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.Item3}{result.Item2}");
        }

        return result;
    }

    /// <summary>The sidus CLI run as the admin would, in the client's namespace (ssh reaches its loopback there).</summary>
    private ProcessStartInfo SidusStart(string home, string[] arguments)
    {
        var start = new ProcessStartInfo(Tool.Require("ip", "iproute2"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])["netns", "exec", _namespace, "dotnet", Path.Combine(AppContext.BaseDirectory, "sidus.dll"), "--home", home, .. arguments])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["SIDUS_WALKER"] = Walker.Value;
        return start;
    }

    private static string PublishWalker()
    {
        var root = BootImageFixture.RepositoryRoot();
        var output = Path.Combine(root, "tests/Sidus.E2E.Tests/bin/walker");
        Tool.Run(TimeSpan.FromMinutes(8), Tool.Require("dotnet", "dotnet-sdk"), "publish", Path.Combine(root, "src/Sidus.Walker/Sidus.Walker.csproj"),
            "-c", "Aot", "-p:Optimize=true", "-r", "linux-x64", "-p:PublishAot=true", "-p:SelfContained=true", "-o", output, "--nologo", "-v", "q");
        return Path.Combine(output, "sidus-walk");
    }
}
