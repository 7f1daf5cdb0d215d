using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Sidus.Store;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// `sidus node capture` on a real shared-mode node (docs/capture.md, "A diskless node's changes"): the real `sidus
/// serve` in a private namespace boots a QEMU VM (tcg) through its iPXE ROM onto the version's export under a tmpfs
/// overlay; a root shell on a control port (<see cref="NodeShell"/>) changes files as an admin would; the real CLI
/// gives the node's sidus-agent service the capture job, the agent walks its overlay's upper layer and posts it, and
/// the server records the version. The same VM then boots that version and finds the changes there.
/// </summary>
public sealed class NodeCaptureTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private const string Node = "cap1";
    private const string Captured = "e2e-node-capture";
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(420);
    private static readonly TimeSpan ShellLimit = TimeSpan.FromSeconds(180);

    // What the admin's hand does on the node: a new file in a new directory, an image file replaced, one deleted.
    private const string NewDirectory = "/opt/sidus-e2e";
    private const string NewFile = NewDirectory + "/note.txt";
    private const string ReplacedFile = "/etc/motd";
    private const string DeletedFile = "/etc/issue.net";

    [VmFact]
    public void NodeCapture_SharedNodeWritesAndDeletes_VersionHoldsExactlyThoseAndBootsWithThem()
    {
        var token = Guid.NewGuid().ToString("N")[..12];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RemoveCaptured(); // left by a run that was killed
        using var boot = new ServeBoot(fixture);
        try
        {
            NodeShell.Install(Path.Combine(Path.GetDirectoryName(boot.Database)!, "overrides", "nodes", Node));
            var add = boot.Sidus("node", "add", Node, "--mac", boot.Mac, "--image", BootImageFixture.Image, "--mode", "shared", "--kernel-args", "console=ttyS0 panic=-1");
            Assert.True(add.Code == 0, "sidus node add failed: " + add.Output);
            var made = boot.Sidus("token", "create", "e2e-capture", "--json");
            Assert.True(made.Code == 0, "sidus token create failed: " + made.Output);
            var admin = JsonDocument.Parse(made.Output).RootElement.GetProperty("token").GetString()!;
            boot.StartServe();

            using (var shell = BootWithShell(boot, fixture.Version.ToString(), 1))
            {
                output.WriteLine($"node up with its shell: {clock.Elapsed.TotalSeconds:F0} s");
                CheckRefusedWithoutJob(boot, admin);

                // What the running system (and the override layer) put in the overlay by itself, before the admin's hand.
                var baseline = Changes(CaptureJson(boot, "--dry-run"));
                output.WriteLine($"baseline (the system's own changes, {baseline.Count}):\n" + string.Join('\n', baseline.Select(c => $"  {c.Key} {c.Value}")));
                Assert.DoesNotContain(NewFile, baseline.Keys);
                // Every file the system wrote by itself is its own (identity, logs, scratch, the override layer) and left
                // out: what remains are directories (times changed under them, or made by the layer, as /etc/ssh).
                Assert.All(baseline, c => Assert.EndsWith(" directory", c.Value, StringComparison.Ordinal));

                var (before, listing) = shell.Run($"test -f {ReplacedFile} && test -f {DeletedFile} && echo present");
                Assert.True(before == 0 && listing == "present", $"{ReplacedFile} and {DeletedFile} are not in the image: {listing}");
                var (wrote, said) = shell.Run($"mkdir -p {NewDirectory} && echo 'note {token}' > {NewFile} && echo 'motd {token}' > {ReplacedFile} && rm {DeletedFile}");
                Assert.True(wrote == 0, "the writes failed on the node: " + said);

                // What the admin reads before saying yes: one line a change, as `image diff` prints them.
                var (listed, text) = boot.SidusWithin(TimeSpan.FromSeconds(400), "node", "capture", Node, "--to", Captured, "--dry-run", "--wait", "180");
                output.WriteLine("node capture --dry-run (text):\n" + text);
                Assert.True(listed == 0, "the text dry run failed: " + text);
                var lines = text.Split('\n');
                Assert.Contains($"+ {NewDirectory}/", lines);
                Assert.Contains($"+ {NewFile}", lines);
                Assert.Contains(lines, l => l.StartsWith($"M {ReplacedFile}  (", StringComparison.Ordinal));
                Assert.Contains($"- {DeletedFile}", lines);
                Assert.Contains(lines, l => l.StartsWith($"{Node}: dry run: ", StringComparison.Ordinal) && l.Contains(" added, 1 removed, ", StringComparison.Ordinal));

                var dryRun = CaptureJson(boot, "--dry-run");
                Assert.True(JsonNull(dryRun, "result"), "a dry run recorded a version: " + dryRun);
                Assert.Null(fixture.Repository.Refs.Head(Captured));
                var previewed = Changes(dryRun);

                var capture = CaptureJson(boot, "--yes");
                output.WriteLine($"capture ({clock.Elapsed.TotalSeconds:F0} s): {capture.GetProperty("summary").GetString()}");
                var result = capture.GetProperty("result");
                Assert.Equal(Captured, result.GetProperty("image").GetString());
                Assert.True(result.GetProperty("created").GetBoolean());
                var version = result.GetProperty("id").GetString()!;
                Assert.Equal(version, fixture.Repository.Refs.Head(Captured)?.ToString());

                // The version's diff against the booted one: the admin's three changes (and their directories), and besides
                // them only the directories the baseline showed.
                var diff = boot.Sidus("image", "diff", $"{BootImageFixture.Image}@{fixture.Version}", $"{Captured}@{version}", "--json");
                Assert.True(diff.Code == 0, "sidus image diff failed: " + diff.Output);
                var changes = Changes(JsonDocument.Parse(diff.Output).RootElement);
                output.WriteLine($"image diff ({changes.Count}):\n" + string.Join('\n', changes.Select(c => $"  {c.Key} {c.Value}")));
                Assert.Equal("added directory", changes.GetValueOrDefault(NewDirectory));
                Assert.Equal("added regular", changes.GetValueOrDefault(NewFile));
                Assert.Equal("modified regular", changes.GetValueOrDefault(ReplacedFile));
                Assert.Equal("removed regular", changes.GetValueOrDefault(DeletedFile));
                // Nothing of the node's own: its override layer (written at every boot, per node), its identity, its
                // logs and scratch space stay out of the image.
                var layer = OverrideFiles(boot);
                Assert.Contains(NodeShell.Script, layer);
                var owned = changes.Keys.Where(p => layer.Contains(p) || NodeOwn(p)).ToList();
                Assert.True(owned.Count == 0, "the node's own files were captured: " + string.Join(", ", owned));
                string[] mine = [NewDirectory, NewFile, ReplacedFile, DeletedFile];
                var unexplained = changes.Keys.Except(mine).Except(baseline.Keys).Where(p => !Parents(mine).Contains(p)).ToList();
                Assert.True(unexplained.Count == 0, "changes neither the admin's nor the system's own: " + string.Join(", ", unexplained));
                // The preview listed exactly what was recorded.
                Assert.Equal(previewed.OrderBy(c => c.Key, StringComparer.Ordinal), changes.OrderBy(c => c.Key, StringComparer.Ordinal));
                Assert.Equal(changes.Keys.Order(StringComparer.Ordinal), Changes(capture).Keys.Order(StringComparer.Ordinal));
            }

            // The same node boots the captured version and finds the admin's changes there.
            var set = boot.Sidus("node", "set", Node, "--image", Captured);
            Assert.True(set.Code == 0, "sidus node set failed: " + set.Output);
            boot.StopVm();
            var newVersion = fixture.Repository.Refs.Head(Captured)!.Value.ToString();
            using (var shell = BootWithShell(boot, newVersion, 2))
            {
                output.WriteLine($"node up on the captured version: {clock.Elapsed.TotalSeconds:F0} s");
                var (code, text) = shell.Run($"cat {NewFile} {ReplacedFile}; test -e {DeletedFile} && echo {DeletedFile} is back || echo {DeletedFile} is gone");
                output.WriteLine("on the node: " + text);
                Assert.Equal(0, code);
                Assert.Equal($"note {token}\nmotd {token}\n{DeletedFile} is gone", text);
            }

            output.WriteLine($"whole test: {clock.Elapsed.TotalSeconds:F0} s");
        }
        finally
        {
            output.WriteLine("sidus serve (tail):\n" + ServeBoot.Tail(boot.ServeText, 4000));
            output.WriteLine("serial (agent lines):\n" + string.Join('\n', boot.Serial.Split('\n').Where(l => l.Contains("sidus-agent", StringComparison.Ordinal))));
            RemoveCaptured();
        }
    }

    /// <summary>Powers the VM on (its NUMBER-th boot), waits for "up" on VERSION and for the node's shell.</summary>
    private NodeShell BootWithShell(ServeBoot boot, string version, int number)
    {
        var socket = Path.Combine(boot.Work, $"shell-{number}.sock");
        boot.PowerOn(Firmware.Bios, devices: NodeShell.QemuArguments(socket));
        var up = DisklessBoot.WaitFor(() => boot.Status(Node) is { } s && s.GetProperty("stage").GetString() == "up" && s.GetProperty("image").GetString() == version, BootLimit);
        Assert.True(up, $"boot {number}: the node did not reach 'up' on {version}; status: {boot.Status(Node)}\nserial:\n{ServeBoot.Tail(boot.Serial, 5000)}");
        output.WriteLine($"boot {number}: power-on to up {boot.Clock.Elapsed.TotalSeconds:F0} s");
        return NodeShell.Connect(socket, Path.Combine(boot.Work, $"shell-{number}.log"), ShellLimit);
    }

    /// <summary>`sidus node capture NODE --to CAPTURED --json` with ARGUMENT; its JSON answer.</summary>
    private JsonElement CaptureJson(ServeBoot boot, string argument)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, text) = boot.SidusWithin(TimeSpan.FromSeconds(400), "node", "capture", Node, "--to", Captured, argument, "--wait", "180", "--json");
        output.WriteLine($"node capture {argument}: exit {code} in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(code == 0, $"sidus node capture {argument} failed: {text}\nserial:\n{ServeBoot.Tail(boot.Serial, 3000)}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A capture without a job of that time is refused by the server (409), even with an admin's token.</summary>
    private void CheckRefusedWithoutJob(ServeBoot boot, string secret)
    {
        var url = $"{HttpUrl(boot)}/api/nodes/{boot.Mac}/requests/capture?at=1";
        var status = boot.Namespace.Exec("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer " + secret,
            "--data-binary", "not a walker's stream", url);
        output.WriteLine($"POST {url} without a job: {status}");
        Assert.Equal("409", status.Trim());
        Assert.Contains($"has no capture job of that time", boot.ServeText, StringComparison.Ordinal);
    }

    /// <summary>The files and links of the node's override layer (`sidus node render --json`).</summary>
    private static HashSet<string> OverrideFiles(ServeBoot boot)
    {
        var (code, text) = boot.Sidus("node", "render", Node, "--json");
        Assert.True(code == 0, "sidus node render failed: " + text);
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("files").EnumerateArray()
            .Where(f => f.GetProperty("kind").GetString() != "directory").Select(f => f.GetProperty("path").GetString()!)];
    }

    /// <summary>A path of the node's own that no capture takes (docs/capture.md, "What is read, and what is left out").</summary>
    private static bool NodeOwn(string path) =>
        path is "/etc/machine-id" or "/etc/hostname" || path.StartsWith("/etc/ssh/ssh_host_", StringComparison.Ordinal) ||
        new[] { "/var/lib/sidus", "/var/log/", "/tmp/", "/var/tmp/", "/var/lib/systemd/timers", "/var/lib/systemd/random-seed" }.Any(p => path.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The base URL of `sidus serve` on the namespace's bridge, from its "HTTP listening on" line.</summary>
    private static string HttpUrl(ServeBoot boot)
    {
        var line = boot.ServeText.Split('\n').First(l => l.Contains("HTTP listening on", StringComparison.Ordinal) && l.Contains(NetworkNamespace.HostAddress, StringComparison.Ordinal));
        var endpoint = line[(line.IndexOf("HTTP listening on ", StringComparison.Ordinal) + 18)..].Trim();
        return endpoint.StartsWith("http", StringComparison.Ordinal) ? endpoint : "http://" + endpoint;
    }

    /// <summary>Path → "KIND TYPE" (e.g. "added regular") of a changes array (a capture's answer or `image diff --json`).</summary>
    private static Dictionary<string, string> Changes(JsonElement json)
    {
        var list = json.ValueKind == JsonValueKind.Array ? json : json.GetProperty("changes");
        return list.EnumerateArray().ToDictionary(c => c.GetProperty("path").GetString()!, c => $"{c.GetProperty("change").GetString()} {c.GetProperty("type").GetString()}");
    }

    private static bool JsonNull(JsonElement json, string name) => !json.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null;

    /// <summary>Every directory above PATHS (a changed file changes its directory's mtime).</summary>
    private static HashSet<string> Parents(IEnumerable<string> paths)
    {
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            for (var p = Path.GetDirectoryName(path); !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
            {
                parents.Add(p);
            }
        }

        return parents;
    }

    /// <summary>The captured image and its exports exist for this test only (the exports are hundreds of MiB).</summary>
    private void RemoveCaptured()
    {
        if (fixture.Repository.Refs.Head(Captured) is not { } head)
        {
            return;
        }

        var exports = Path.Combine(fixture.Home, "exports");
        if (Directory.Exists(exports))
        {
            foreach (var file in Directory.EnumerateFiles(exports, head + ".*"))
            {
                File.Delete(file);
            }
        }

        new ImageStore(fixture.Repository).Remove(Captured);
    }
}
