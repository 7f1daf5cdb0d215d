namespace Sidus.Cli.Commands.Docs;

/// <summary>`sidus completion bash|zsh`: the shell completion script, generated from the command tree.</summary>
public static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "The shell: bash or zsh", HelpName = "SHELL" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", """
            Print the shell completion script for sidus. Load it for this shell with
            `source <(sidus completion bash)`, or install it for everyone as
            /usr/share/bash-completion/completions/sidus. zsh: `sidus completion zsh > "${fpath[1]}/_sidus"`
            (or /usr/share/zsh/vendor-completions/_sidus), then start a new shell.
            """)
        {
            shell,
        };
        command.SetAction(result =>
        {
            var paths = CommandPath.Walk(SidusCommand.Create());
            Console.Out.Write(result.GetValue(shell) == "zsh" ? ZshCompletion.Render(paths) : BashCompletion.Render(paths));
            return ExitCodes.Success;
        });
        return command;
    }
}
