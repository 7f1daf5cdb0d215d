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
    public void Zsh_script_loads_in_real_zsh_when_installed_or_is_bash_compatible()
    {
        var script = BashCompletion.RenderForZsh(_paths);
        Assert.StartsWith("#compdef sidus\n", script, StringComparison.Ordinal);
        Assert.Contains("bashcompinit", script, StringComparison.Ordinal);
        Assert.Equal(["image"], Complete(script.Replace("autoload -U +X bashcompinit && bashcompinit\n", string.Empty, StringComparison.Ordinal), "sidus im"));
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
