using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Sidus.Server.Configuration;
using Sidus.Testing;

namespace Sidus.Server.Tests;

/// <summary>`sidus service`: the unit and the example configuration it writes, checked by systemd's own verifier.</summary>
public sealed partial class ServiceCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sidus-unit-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string Sidus => Path.Combine(AppContext.BaseDirectory, "sidus");

    private string UnitPath => Path.Combine(_root, "etc/systemd/system/sidus.service");

    private string ConfigPath => Path.Combine(_root, "etc/sidus/sidus.toml");

    [Fact]
    public async Task Install_WritesUnitAndConfig_SystemdAnalyzeVerifyAccepts()
    {
        var r = await Tools.SidusAsync(_root, "service", "install", "--root", _root, "--bin", Sidus, "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var json = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(UnitPath, json.GetProperty("unit").GetProperty("path").GetString());
        Assert.Equal("written", json.GetProperty("unit").GetProperty("action").GetString());
        Assert.Equal("written", json.GetProperty("config").GetProperty("action").GetString());
        Assert.Equal(0, json.GetProperty("next").GetArrayLength());

        var unit = await File.ReadAllTextAsync(UnitPath);
        Assert.Contains($"ExecStart={Sidus} serve --config {ServeConfigFile.SystemPath}\n", unit, StringComparison.Ordinal);
        foreach (var line in new[] { "Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "WatchdogSec=30s", "StateDirectory=sidus", "LimitNOFILE=524288" })
        {
            Assert.Contains(line + "\n", unit, StringComparison.Ordinal);
        }

        // systemd's verifier works without systemd as PID 1; unknown keys and missing binaries are warnings on stderr.
        var verify = await Tools.RunAsync(Tool.Require("systemd-analyze", "systemd"), ["verify", UnitPath]);
        Assert.True(verify.ExitCode == 0 && verify.Err.Length == 0 && verify.Out.Length == 0, $"systemd-analyze verify: {verify.ExitCode}\n{verify.Text}{verify.Err}");

        Assert.Equal(await Tools.SidusAsync(_root, "service", "config") is var c && c.ExitCode == 0 ? c.Text : "?", await File.ReadAllTextAsync(ConfigPath));

        // Again: nothing to do, and an edited configuration is never overwritten.
        await File.AppendAllTextAsync(ConfigPath, "log-level = \"debug\"\n");
        var again = await Tools.SidusAsync(_root, "service", "install", "--root", _root, "--bin", Sidus);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal($"unit    {UnitPath} (unchanged; starts {Sidus})\nconfig  {ConfigPath} (kept: it exists)\n", again.Text);
        Assert.EndsWith("log-level = \"debug\"\n", await File.ReadAllTextAsync(ConfigPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unit_SystemdAnalyzeVerifyFlagsAMistake()
    {
        // The check above can fail: the same verifier on a unit with a misspelt key.
        Directory.CreateDirectory(_root);
        var unit = Path.Combine(_root, "sidus.service");
        var text = (await Tools.SidusAsync(_root, "service", "unit", "--bin", Sidus)).Text.Replace("WatchdogSec=", "WatchdogSecs=", StringComparison.Ordinal);
        await File.WriteAllTextAsync(unit, text);
        var verify = await Tools.RunAsync(Tool.Require("systemd-analyze", "systemd"), ["verify", unit]);
        Assert.Contains("Unknown key 'WatchdogSecs'", verify.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uninstall_RefusedWhileEnabled_KeepsAnEditedConfig()
    {
        Assert.Equal(0, (await Tools.SidusAsync(_root, "service", "install", "--root", _root, "--bin", Sidus)).ExitCode);
        var wants = Path.Combine(_root, "etc/systemd/system/multi-user.target.wants");
        Directory.CreateDirectory(wants);
        File.CreateSymbolicLink(Path.Combine(wants, "sidus.service"), "/etc/systemd/system/sidus.service");

        var refused = await Tools.SidusAsync(_root, "service", "uninstall", "--root", _root);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("sidus is still enabled", refused.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(UnitPath));

        File.Delete(Path.Combine(wants, "sidus.service"));
        await File.AppendAllTextAsync(ConfigPath, "log-level = \"debug\"\n");
        var removed = await Tools.SidusAsync(_root, "service", "uninstall", "--root", _root, "--json");
        Assert.True(removed.ExitCode == 0, removed.Err);
        var json = JsonDocument.Parse(removed.Out).RootElement;
        Assert.Equal("removed", json.GetProperty("unit").GetProperty("action").GetString());
        Assert.Equal("kept", json.GetProperty("config").GetProperty("action").GetString());
        Assert.False(File.Exists(UnitPath));
        Assert.True(File.Exists(ConfigPath));
    }

    [Fact]
    public async Task Uninstall_RemovesTheUneditedExample()
    {
        Assert.Equal(0, (await Tools.SidusAsync(_root, "service", "install", "--root", _root, "--bin", Sidus)).ExitCode);
        var r = await Tools.SidusAsync(_root, "service", "uninstall", "--root", _root);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"unit    {UnitPath} (removed)\nconfig  {ConfigPath} (removed)\n", r.Text);
        Assert.False(File.Exists(ConfigPath));
    }

    [Theory]
    [InlineData("sidus")]
    [InlineData("/opt/my sidus/sidus")]
    [InlineData("/opt/%n/sidus")]
    public async Task Unit_BinaryThatSystemdWouldMisread_IsRefused(string binary)
    {
        var r = await Tools.SidusAsync(Path.GetTempPath(), "service", "unit", "--bin", binary);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("must be an absolute path", r.Err, StringComparison.Ordinal);
        Assert.Empty(r.Out);
    }

    [Fact]
    public async Task ExampleConfig_EverySettingUncommented_IsReadWithoutError()
    {
        var example = (await Tools.SidusAsync(Path.GetTempPath(), "service", "config")).Text;
        var settings = CommentedSetting().Matches(example).Select(m => m.Groups[1].Value).ToArray();
        var uncommented = CommentedSetting().Replace(example, "$1");
        var options = ServeConfigFile.Parse(uncommented, "example", new ServeOptions { Home = "/tmp" });
        Assert.Equal("/var/lib/sidus", options.Home);
        Assert.Equal(80, options.Http.Port);
        Assert.Equal(LogLevel.Information, options.LogLevel);
        Assert.Equal("eth1", Assert.Single(options.Interfaces).Name);
        Assert.True(options.Overrides.State is not null);

        // Every setting is documented in docs/serve.md, by its own name.
        var docs = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "serve.md"));
        foreach (var key in settings.Select(s => SettingKey().Match(s).Groups[1].Value).Where(k => k.Length > 0).Distinct())
        {
            Assert.True(Regex.IsMatch(docs, $@"(?m)^{Regex.Escape(key)} = |`{Regex.Escape(key)}`"), $"docs/serve.md does not document '{key}'");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sidus.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Sidus.slnx) is not above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"(?m)^# ((?:\[\[?[a-z]+\]\]?|[a-z][a-z-]* = ).*)$")]
    private static partial Regex CommentedSetting();

    [GeneratedRegex(@"^([a-z][a-z-]*) = ")]
    private static partial Regex SettingKey();
}
