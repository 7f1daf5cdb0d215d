using System.Formats.Tar;
using System.Net;
using Microsoft.Extensions.Logging;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;

namespace Sidus.Server.Tests;

/// <summary>
/// Issue 11, finding 11: a local user who is not root reads nothing of a Sidus data directory (neither through
/// `sidus image export` nor through its files), unless the admin named a group the user is in.
/// </summary>
public sealed class LocalAccessTests : IDisposable
{
    private const string Nobody = "65534";
    private const string Shadow = "root:$6$local-access-test$hash:19000:0:99999:7:::\n";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sidus-local-" + Guid.NewGuid().ToString("N")[..12]);

    public LocalAccessTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "root", "etc"));
        File.WriteAllText(Path.Combine(_dir, "root", "etc", "shadow"), Shadow);
        File.SetUnixFileMode(Path.Combine(_dir, "root", "etc", "shadow"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.WriteAllText(Path.Combine(_dir, "root", "etc", "hostname"), "demo\n");

        // The test's own directory must be enterable by uid 65534: the data directory inside is what is tested.
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1ED);
    }

    private string Home => Path.Combine(_dir, "home");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task NotRoot_ReadsNothing_UnlessInTheChosenGroup()
    {
        var import = await Tools.SidusAsync(Home, "image", "import", "demo", Path.Combine(_dir, "root"));
        Assert.True(import.ExitCode == 0, import.Err);
        var add = await Tools.SidusAsync(Home, "node", "add", "n1", "--mac", "52:54:00:00:00:01");
        Assert.True(add.ExitCode == 0, add.Err);

        // Made root's alone from the start: the directory 0700, the inventory 0600.
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(Home));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(Path.Combine(Home, "inventory.db")));
        Assert.Contains(Shadow.TrimEnd(), await ExportedShadowAsync(["--reuid=0"]), StringComparison.Ordinal);

        // Through the CLI: one clear line, no stack trace, nothing on stdout.
        var export = await AsAsync([$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"], "image", "export", "demo", "--format", "tar", "-o", "-");
        Assert.NotEqual(0, export.ExitCode);
        Assert.Empty(export.Out);
        Assert.Single(export.Err.TrimEnd().Split('\n'));
        Assert.Contains("is root only (mode 0700): run sidus as root", export.Err, StringComparison.Ordinal);
        var status = await AsAsync([$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"], "node", "status");
        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains("is root only", status.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", status.Err, StringComparison.Ordinal);

        // Directly: not one file of the data directory opens.
        Assert.Equal("", await ReadableFilesAsync([$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"]));

        // The admin names a group (nogroup, gid 65534, stands for "sidus"): its members read, others still do not.
        var options = new ServeOptions
        {
            Home = Home,
            Group = "nogroup",
            Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
            Tftp = new TftpSettings { Enabled = false },
            Nbd = new NbdSettings { Enabled = false },
        };
        var log = new LogCollector();
        await (await SidusServer.StartAsync(options, b => b.AddProvider(log).SetMinimumLevel(LogLevel.Information))).DisposeAsync();
        Assert.Contains(log.Lines, l => l.Contains($"the Sidus data directory {Home} was mode 0700", StringComparison.Ordinal) && l.Contains("now 02750, group nogroup", StringComparison.Ordinal));
        Assert.Equal((UnixFileMode)0x5E8, File.GetUnixFileMode(Home));
        Assert.Contains(Shadow.TrimEnd(), await ExportedShadowAsync([$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"]), StringComparison.Ordinal);
        var outsider = await AsAsync(["--reuid=65533", "--regid=65533", "--clear-groups"], "image", "export", "demo", "--format", "tar", "-o", "-");
        Assert.NotEqual(0, outsider.ExitCode);
        Assert.Contains("is root and group 65534", outsider.Err, StringComparison.Ordinal);

        // The CLI run as root keeps the admin's group.
        Assert.Equal(0, (await Tools.SidusAsync(Home, "image", "list")).ExitCode);
        Assert.Equal((UnixFileMode)0x5E8, File.GetUnixFileMode(Home));
    }

    [Fact]
    public async Task ExistingLooseHome_ClosedOnOpen_SaidOnce()
    {
        Directory.CreateDirectory(Home);
        File.SetUnixFileMode(Home, (UnixFileMode)0x1ED);
        var first = await Tools.SidusAsync(Home, "image", "list");
        Assert.True(first.ExitCode == 0, first.Err);
        Assert.Contains($"sidus: the Sidus data directory {Home} was mode 0755: now 0700, root only", first.Err, StringComparison.Ordinal);
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(Home));
        var second = await Tools.SidusAsync(Home, "image", "list");
        Assert.DoesNotContain("was mode", second.Err, StringComparison.Ordinal);

        // The inventory verbs close it too, and an inventory file others could read.
        Assert.Equal(0, (await Tools.SidusAsync(Home, "node", "list")).ExitCode);
        File.SetUnixFileMode(Home, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(Path.Combine(Home, "inventory.db"), (UnixFileMode)0x1A4);
        var list = await Tools.SidusAsync(Home, "node", "list");
        Assert.Contains("was mode 0755: now 0700", list.Err, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(Path.Combine(Home, "inventory.db")) & (UnixFileMode)0x7);
    }

    /// <summary>Runs the CLI on the home under setpriv with <paramref name="identity"/>.</summary>
    private Task<Tools.Result> AsAsync(string[] identity, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sidus.dll");
        return Tools.RunAsync("setpriv", [.. identity, "dotnet", dll, "--home", Home, .. args], env: new Dictionary<string, string> { ["HOME"] = _dir });
    }

    /// <summary>The image's /etc/shadow as `sidus image export --format tar -o -` gives it to <paramref name="identity"/>.</summary>
    private async Task<string> ExportedShadowAsync(string[] identity)
    {
        var r = await AsAsync(identity, "image", "export", "demo", "--format", "tar", "-o", "-");
        Assert.True(r.ExitCode == 0, r.Err);
        using var tar = new TarReader(new MemoryStream(r.Out));
        while (await tar.GetNextEntryAsync() is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') == "etc/shadow")
            {
                using var reader = new StreamReader(entry.DataStream!);
                return await reader.ReadToEndAsync();
            }
        }

        return "";
    }

    /// <summary>The files of the data directory that <paramref name="identity"/> can open, one a line.</summary>
    private async Task<string> ReadableFilesAsync(string[] identity)
    {
        var files = Directory.GetFiles(Home, "*", SearchOption.AllDirectories);
        Assert.True(files.Length > 3, "the data directory has files");
        var r = await Tools.RunAsync("setpriv", [.. identity, "sh", "-c", "for f; do head -c 1 \"$f\" >/dev/null 2>&1 && echo \"$f\"; done; true", "sh", .. files]);
        Assert.True(r.ExitCode == 0, r.Err);
        return r.Text;
    }
}
