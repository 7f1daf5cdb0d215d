using Sidus.Cli;
using Sidus.Cli.Commands.Docs;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Cli.Tests;

/// <summary>
/// The generated bash completion, run by real bash: the script is sourced, COMP_WORDS and COMP_CWORD are set as
/// readline sets them, and the completion function's answer is read back.
/// </summary>
public sealed class CompletionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-completion-").FullName;
    private readonly IReadOnlyList<CommandPath> _paths = CommandPath.Walk(SidusCommand.Create());

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("sidus im", "image")]
    [InlineData("sidus image b", "build")]
    [InlineData("sidus node s", "set show status")]
    [InlineData("sidus image build --su", "--suite")]
    [InlineData("sidus --home /x node set n1 --mode r", "ram")]
    [InlineData("sidus completion ", "bash zsh")]
    [InlineData("sidus node set n1 --mode install --ima", "--image")]
    public void Bash_completes_what_the_tree_defines(string line, string expected)
    {
        Assert.Equal(expected.Split(' ').Order(StringComparer.Ordinal), Complete(BashCompletion.Render(_paths), line).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Bash_offers_every_boot_mode_after_mode()
    {
        var modes = Complete(BashCompletion.Render(_paths), "sidus node set n1 --mode ");
        Assert.Equal(Enum.GetValues<BootMode>().Select(m => m.ToText()).Order(StringComparer.Ordinal), modes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Bash_leaves_free_values_and_arguments_to_file_completion()
    {
        var script = BashCompletion.Render(_paths);
        Assert.Empty(Complete(script, "sidus --home "));
        Assert.Empty(Complete(script, "sidus image import demo "));
        Assert.Contains("complete -o default -F _sidus sidus", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Bash_reaches_every_command_of_the_tree()
    {
        var script = BashCompletion.Render(_paths);
        foreach (var path in _paths.Where(p => p.Subcommands.Any()))
        {
            var offered = Complete(script, path.Text + " ");
            Assert.All(path.Subcommands, c => Assert.Contains(c.Name, offered));
        }
    }

    [Fact]
    public void Bash_offers_every_option_of_every_command()
    {
        var script = BashCompletion.Render(_paths);
        foreach (var path in _paths)
        {
            var offered = Complete(script, path.Text + " --");
            Assert.All(path.Options.SelectMany(CommandPath.Names).Where(n => n.StartsWith("--", StringComparison.Ordinal)),
                name => Assert.True(offered.Contains(name), $"{path.Text}: {name} is not offered"));
        }
    }

    [Theory]
    [InlineData("sidus im", "image")]
    [InlineData("sidus node s", "set show status")]
    [InlineData("sidus --home /x node set n1 --mode r", "ram")]
    [InlineData("sidus completion ", "bash zsh")]
    [InlineData("sidus image export x --format ", "tar squashfs erofs cpio")]
    [InlineData("sidus node status --wa", "--watch")]
    public void Zsh_completes_what_the_tree_defines(string line, string expected)
    {
        var offered = CompleteZsh(ZshCompletion.Render(_paths), line);
        var cur = line.Split(' ')[^1];
        Assert.Equal(expected.Split(' ').Order(StringComparer.Ordinal), offered.Where(w => w.StartsWith(cur, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Zsh_offers_every_command_and_option_of_the_tree_with_its_description()
    {
        var script = ZshCompletion.Render(_paths);
        Assert.StartsWith("#compdef sidus\n", script, StringComparison.Ordinal);
        var check = ProcessRunner.Run(Tool.Require("zsh", "zsh"), ["-n", "-c", script]);
        Assert.True(check.Succeeded, check.ToString());
        foreach (var path in _paths)
        {
            var commands = CompleteZsh(script, path.Text + " ", described: true);
            Assert.All(path.Subcommands, c => Assert.Contains(commands, w => w.StartsWith(c.Name + ":", StringComparison.Ordinal)));
            var options = CompleteZsh(script, path.Text + " --", described: true);
            Assert.All(path.Options.SelectMany(CommandPath.Names),
                name => Assert.True(options.Any(w => w.StartsWith(name + ":", StringComparison.Ordinal)), $"{path.Text}: {name} is not offered"));
        }

        Assert.Contains("set:Change a node", string.Join('\n', CompleteZsh(script, "sidus node ", described: true)), StringComparison.Ordinal);
    }

    /// <summary>
    /// What the zsh completion offers for LINE, run by real zsh: the words and CURRENT are set as the completion
    /// system sets them, and its builtins (compadd, _describe, _files) are replaced by functions that print what
    /// they were given ("name:description" when DESCRIBED, else the names).
    /// </summary>
    private string[] CompleteZsh(string script, string line, bool described = false)
    {
        var file = Path.Combine(_dir, "_sidus");
        File.WriteAllText(file, script.Replace("_sidus \"$@\"\n", string.Empty, StringComparison.Ordinal));
        var words = line.Split(' ');
        var quoted = string.Join(' ', words.Select(w => "'" + w + "'"));
        var describe = described ? "print -l -- ${(P)4}" : "local e; for e in ${(P)4}; do print -r -- ${e%%:*}; done";
        var driver = $"compadd() {{ [[ $1 == -- ]] && shift; print -l -- \"$@\"; }}; _describe() {{ {describe}; }}; _files() {{ :; }}; " +
                     $"source '{file}'; words=({quoted}); CURRENT={words.Length}; _sidus";
        var result = ProcessRunner.Run(Tool.Require("zsh", "zsh"), ["-f", "-c", driver]);
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(string.Empty, result.StandardError);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>What the completion offers for <paramref name="line"/> (the last word is the one being completed).</summary>
    private string[] Complete(string script, string line)
    {
        var file = Path.Combine(_dir, "sidus.bash");
        File.WriteAllText(file, script);
        var words = line.Split(' ');
        var quoted = string.Join(' ', words.Select(w => "'" + w + "'"));
        var driver = $"source '{file}'; COMP_WORDS=({quoted}); COMP_CWORD={words.Length - 1}; _sidus; printf '%s\\n' \"${{COMPREPLY[@]}}\"";
        var result = ProcessRunner.Run(Tool.Require("bash", "bash"), ["--norc", "-c", driver]);
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(string.Empty, result.StandardError);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
