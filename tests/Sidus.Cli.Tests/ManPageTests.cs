using Sidus.Cli;
using Sidus.Cli.Commands.Docs;
using Sidus.Testing;

namespace Sidus.Cli.Tests;

/// <summary>The generated man pages, checked by groff (warnings on) and rendered by man, as a user would read them.</summary>
public sealed class ManPageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-man-").FullName;
    private readonly IReadOnlyList<CommandPath> _paths = CommandPath.Walk(SidusCommand.Create());

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_command_has_a_page_groff_accepts_without_a_warning()
    {
        Assert.Contains(_paths, p => p.Text == "sidus image build");
        foreach (var path in _paths)
        {
            var file = Write(path);
            var check = ProcessRunner.Run(Tool.Require("groff", "groff-base"), ["-man", "-Tutf8", "-ww", "-z", file]);
            Assert.True(check.Succeeded && check.StandardError.Length == 0, $"{path.PageName}: {check}");
        }
    }

    [Fact]
    public void A_page_shows_the_commands_options_and_arguments_as_help_does()
    {
        var set = _paths.Single(p => p.Text == "sidus node set");
        var text = Render(set);
        Assert.Contains("sidus-node-set - Change a node", text, StringComparison.Ordinal);
        Assert.Contains("sidus node set [OPTIONS] NAME", text, StringComparison.Ordinal);
        foreach (var option in set.Options)
        {
            Assert.Contains(CommandPath.Names(option)[^1], text, StringComparison.Ordinal);
        }

        // The --help example lines stay lines of their own.
        Assert.Matches(@"\n +sidus node set node001 --image debian@4 --tag rack=r2\n", text);
        Assert.Contains("--home", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parent_page_lists_its_commands_and_points_to_their_pages()
    {
        var text = Render(_paths.Single(p => p.Text == "sidus image"));
        foreach (var name in new[] { "build", "import", "exec", "diff", "rollback" })
        {
            Assert.Contains($"sidus-image-{name}(1)", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Roff_requests_in_descriptions_are_escaped()
    {
        Assert.Equal("\\&.hidden \\e \\-\\-x", ManPage.Escape(".hidden \\ --x"));
        Assert.Equal("\\&'quote", ManPage.Escape("'quote"));
    }

    private string Write(CommandPath path)
    {
        var file = Path.Combine(_dir, ManPage.FileName(path));
        File.WriteAllText(file, ManPage.Render(path, _paths, "2026-12-02", "1.0.0"));
        return file;
    }

    /// <summary>The page as `man -l` shows it on a wide terminal (piped, man leaves out bold and underline).</summary>
    private string Render(CommandPath path)
    {
        var file = Write(path);
        var man = ProcessRunner.Run("/usr/bin/env", ["MANWIDTH=200", "LC_ALL=C.UTF-8", Tool.Require("man", "man-db"), "-P", "cat", "-l", file]);
        Assert.True(man.Succeeded, man.ToString());
        return man.StandardOutput.Replace("\u2010", "-", StringComparison.Ordinal);
    }
}
