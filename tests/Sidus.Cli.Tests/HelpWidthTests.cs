using System.CommandLine;
using Sidus.Cli;
using Sidus.Cli.Commands.Docs;
using Sidus.Cli.Rendering;

namespace Sidus.Cli.Tests;

/// <summary>--help of every command, written to a pipe as here, fits 80 columns, and its paragraphs read as prose.</summary>
public sealed class HelpWidthTests
{
    [Fact]
    public void EveryCommandsHelp_InAPipe_FitsEightyColumns()
    {
        var root = SidusCommand.Create();
        HelpText.Fit(root);
        var paths = CommandPath.Walk(root);
        Assert.True(paths.Count > 50, $"only {paths.Count} commands found");
        foreach (var path in paths)
        {
            var output = new StringWriter();
            var code = root.Parse([.. path.Words.Skip(1), "--help"]).Invoke(new InvocationConfiguration { Output = output });
            Assert.Equal(0, code);
            var text = output.ToString();
            Assert.Contains("Usage:", text, StringComparison.Ordinal);
            var wide = text.Split('\n').Where(l => l.TrimEnd().Length > 80).ToList();
            Assert.True(wide.Count == 0, $"{path.Text} --help has lines over 80 columns:\n{string.Join('\n', wide)}");
        }
    }

    [Theory]
    [InlineData("one line", "one line")]
    [InlineData("first half\nsecond half.\n\nNext paragraph", "first half second half.\n\nNext paragraph")]
    [InlineData("Run it:\n  sidus x --y\n  sidus z\nThen done", "Run it:\n  sidus x --y\n  sidus z\nThen done")]
    [InlineData("What it does,\nsaid twice.\nExit codes: 0 fine, 1 not", "What it does, said twice.\nExit codes: 0 fine, 1 not")]
    public void Filled_JoinsAParagraphsLines_KeepsExamplesBlankLinesAndExitCodes(string description, string expected) =>
        Assert.Equal(expected, HelpText.Filled(description));
}
