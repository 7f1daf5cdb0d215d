using System.Text.Json;
using Sidus.Cli.Rendering;
using Sidus.Cli.Tests.Support;
using Sidus.Server.Configuration;

namespace Sidus.Cli.Tests;

/// <summary>What admins and their scripts read: tables, errors, messages, as the real CLI prints them.</summary>
public sealed class CliOutputTests : IDisposable
{
    private readonly SidusRun _sidus = new();

    public void Dispose() => _sidus.Dispose();

    [Fact]
    public void Piped_tables_are_one_row_a_line_with_tab_separated_cells_and_no_box_characters()
    {
        Ok(_sidus.Run("node", "add", "n1", "--mac", "52:54:00:00:00:01", "--ip", "10.0.0.5"));
        Ok(_sidus.Run("node", "add", "a-node-with-a-name-long-enough-to-wrap-a-narrow-column", "--mac", "52:54:00:00:00:02"));
        var list = Ok(_sidus.Run("node", "list"));
        Assert.DoesNotContain('│', list.Out);
        Assert.DoesNotContain('─', list.Out);
        Assert.Equal(3, list.OutLines.Length);
        Assert.All(list.OutLines, line => Assert.Equal(6, line.Split('\t').Length));
        Assert.Equal(["NAME", "MACS", "IP", "GROUPS", "IMAGE", "MODE"], list.OutLines[0].Split('\t'));
        Assert.Contains(list.OutLines, l => l.StartsWith("a-node-with-a-name-long-enough-to-wrap-a-narrow-column\t52:54:00:00:00:02\t-\t", StringComparison.Ordinal));

        var bare = Ok(_sidus.Run("--no-headers", "node", "list"));
        Assert.Equal(2, bare.OutLines.Length);
        Assert.StartsWith("a-node-with", bare.OutLines[0], StringComparison.Ordinal);
        Assert.Equal(bare.Out, Ok(_sidus.Run("node", "list", "--plain", "--no-headers")).Out);
    }

    [Fact]
    public void A_terminal_table_is_cut_to_the_width_with_an_ellipsis_and_never_wrapped_and_plain_is_never_cut()
    {
        var table = new TextTable("NAME", "DETAIL");
        table.AddRow("n1", new string('x', 100));
        table.AddRow("n2", null);
        var terminal = new StringWriter();
        table.Write(terminal, new OutputStyle(Plain: false, Headers: true, Width: 40, JsonErrors: false));
        var lines = terminal.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.True(l.Length <= 40, l));
        Assert.EndsWith("…", lines[1], StringComparison.Ordinal);
        Assert.Equal("n2    -", lines[2]);

        var plain = new StringWriter();
        table.Write(plain, new OutputStyle(Plain: true, Headers: false, Width: 40, JsonErrors: false));
        Assert.Equal($"n1\t{new string('x', 100)}\nn2\t-\n", plain.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_typo_is_one_line_of_error_and_a_hint_not_the_help()
    {
        var typo = _sidus.Run("node", "stauts");
        Assert.Equal(ExitCodes.Usage, typo.ExitCode);
        Assert.Equal(string.Empty, typo.Out);
        Assert.Equal(["sidus: 'sidus node' has no command 'stauts'", "sidus: did you mean 'sidus node status'? (see 'sidus node --help')"], typo.ErrLines);

        var option = _sidus.Run("node", "list", "--grup", "x");
        Assert.Equal(2, option.ErrLines.Length);
        Assert.Contains("did you mean 'sidus node list --group'?", option.Err, StringComparison.Ordinal);

        var stray = _sidus.Run("node", "status", "--wacth");
        Assert.Equal(ExitCodes.Usage, stray.ExitCode);
        Assert.Equal("sidus: did you mean 'sidus node status --watch'? (see 'sidus node status --help')", stray.ErrLines[^1]);

        var bare = _sidus.Run("image");
        Assert.Equal(ExitCodes.Usage, bare.ExitCode);
        Assert.Equal(2, bare.ErrLines.Length);
        Assert.Contains("needs a command: ", bare.Err, StringComparison.Ordinal);
        Assert.Contains("see 'sidus image --help'", bare.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Under_json_errors_are_one_json_line_on_stderr_with_the_exit_code_unchanged()
    {
        var missing = _sidus.Run("node", "show", "nosuch", "--json");
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Equal(string.Empty, missing.Out);
        var error = JsonDocument.Parse(missing.ErrLines[^1]).RootElement.GetProperty("error");
        Assert.Contains("nosuch", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        var typo = _sidus.Run("node", "list", "--json", "--grup", "x");
        Assert.Equal(ExitCodes.Usage, typo.ExitCode);
        var usage = JsonDocument.Parse(Assert.Single(typo.ErrLines)).RootElement.GetProperty("error");
        Assert.Equal("did you mean 'sidus node list --group'? (see 'sidus node list --help')", usage.GetProperty("hint").GetString());

        var store = _sidus.Run("image", "show", "nosuch", "--json");
        Assert.Equal(ExitCodes.NotFound, store.ExitCode);
        Assert.True(JsonDocument.Parse(store.ErrLines[^1]).RootElement.TryGetProperty("error", out _), store.ToString());
    }

    [Fact]
    public void A_wrong_value_lists_the_allowed_values_not_a_dotnet_type()
    {
        var format = _sidus.Run("image", "export", "demo", "--format", "zip", "-o", Path.Combine(_sidus.Home, "x"));
        Assert.Equal(ExitCodes.Usage, format.ExitCode);
        Assert.Contains("'zip' is not a value of --format: use tar, squashfs, erofs, cpio", format.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Sidus.Store", format.Err, StringComparison.Ordinal);

        var number = _sidus.Run("image", "rollback", "demo@1", "--wait", "soon");
        Assert.Equal(ExitCodes.Usage, number.ExitCode);
        Assert.DoesNotContain("System.", number.Err, StringComparison.Ordinal);
        Assert.Contains("'soon'", number.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_toml_syntax_error_says_file_line_and_column_without_the_parsers_internals()
    {
        var e = Assert.Throws<ServeConfigException>(() => ServeConfigFile.Parse("[http]\nport = = 80\n", "/etc/sidus/sidus.toml", new ServeOptions { Home = "/var/lib/sidus" }));
        Assert.StartsWith("/etc/sidus/sidus.toml:2:", e.Message, StringComparison.Ordinal);
        Assert.True(!e.Message.Contains("Tomlyn", StringComparison.Ordinal), e.Message + "\n---\n" + e.InnerException);
        Assert.DoesNotContain("Exception", e.Message, StringComparison.Ordinal);
        Assert.Equal("/etc/sidus/sidus.toml:2:8: not valid TOML: Unexpected token `=` while parsing a value", e.Message);
    }

    [Fact]
    public void A_yaml_value_error_names_the_line_of_the_offending_key()
    {
        var file = Path.Combine(_sidus.Home, "cluster.yaml");
        File.WriteAllText(file, "version: 1\nnodes:\n  - name: n1\n    mac: 52:54:00:00:00:01\n    ip: 10.0.0.999\n    mode: ram\n");
        var ip = _sidus.Run("apply", "-f", file);
        Assert.Equal(ExitCodes.Usage, ip.ExitCode);
        Assert.StartsWith($"sidus: {file}:5:", ip.ErrLines[^1], StringComparison.Ordinal);

        File.WriteAllText(file, "version: 1\nnodes:\n  - name: n1\n    macs:\n      - 52:54:00:00:00:01\n      - 52:54:00:00:00:zz\n");
        Assert.StartsWith($"sidus: {file}:6:", _sidus.Run("apply", "-f", file).ErrLines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Image_list_and_show_agree_on_tags_and_rollback_takes_name_at_version()
    {
        var tree = Directory.CreateDirectory(Path.Combine(_sidus.Home, "tree")).FullName;
        File.WriteAllText(Path.Combine(tree, "motd"), "one\n");
        Ok(_sidus.Run("image", "import", "demo", tree, "--quiet"));
        File.WriteAllText(Path.Combine(tree, "motd"), "two\n");
        Ok(_sidus.Run("image", "import", "demo", tree, "--quiet"));
        Ok(_sidus.Run("image", "tag", "demo@1", "prod"));
        Ok(_sidus.Run("image", "tag", "demo@2", "next"));

        var row = Ok(_sidus.Run("image", "list")).OutLines[1].Split('\t');
        Assert.Equal(("demo", "2"), (row[0], row[1]));
        Assert.Equal("next,prod=@1", row[^1]);
        Assert.Contains(Ok(_sidus.Run("image", "show", "demo@2")).OutLines, l => l == "tags:     next");
        Assert.Contains(Ok(_sidus.Run("image", "show", "demo@1")).OutLines, l => l == "tags:     prod");

        Ok(_sidus.Run("image", "rollback", "demo@1"));
        Assert.Equal("3", Ok(_sidus.Run("image", "list")).OutLines[1].Split('\t')[1]);
        Assert.Equal("one\n", File.ReadAllText(Checkout("demo@3")));
        Ok(_sidus.Run("image", "rollback", "demo", "2"));
        Assert.Equal("two\n", File.ReadAllText(Checkout("demo@4")));

        var bare = _sidus.Run("image", "rollback", "demo");
        Assert.Equal(ExitCodes.Usage, bare.ExitCode);
        Assert.Contains("sidus image rollback demo@N", bare.Err, StringComparison.Ordinal);
    }

    private string Checkout(string spec)
    {
        var target = Path.Combine(_sidus.Home, "out-" + spec.Replace('@', '-'));
        Ok(_sidus.Run("image", "checkout", spec, target, "--quiet"));
        return Path.Combine(target, "motd");
    }

    private static SidusRun.Result Ok(SidusRun.Result result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
