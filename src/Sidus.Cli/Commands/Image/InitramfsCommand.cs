using Sidus.Artifacts.Initramfs;

namespace Sidus.Cli.Commands.Image;

/// <summary>`sidus image initramfs`: the kernel and initramfs a diskless node boots for a version (from the boot cache).</summary>
public static class InitramfsCommand
{
    public const string AgentVariable = "SIDUS_AGENT";

    public static Command Create()
    {
        var spec = new Argument<string>("image") { Description = "NAME (newest version), NAME@N, NAME@IDPREFIX or NAME:TAG" };
        var output = new Option<string>("--output", "-o") { Description = "Where to copy the initramfs (gzip-compressed newc cpio)", Required = true, HelpName = "FILE" };
        var kernel = new Option<string?>("--kernel", "-k") { Description = "Where to copy the image's kernel", HelpName = "FILE" };
        var agent = new Option<string?>("--agent")
        {
            Description = $"The node agent binary to put in as /init (default: ${AgentVariable}, else sidus-agent beside sidus)",
            HelpName = "FILE",
        };
        var command = new Command("initramfs", """
            Write the initramfs Sidus assembles for a version (the node agent as /init, the image's C library and the
            kernel modules for network and storage with their dependencies), and optionally the image's kernel.
            Both are cached by version id and agent: a second call copies the cached files.
            """)
        {
            spec, output, kernel, agent,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, ct) =>
        {
            var agentPath = result.GetValue(agent) ?? Environment.GetEnvironmentVariable(AgentVariable) ?? Path.Combine(AppContext.BaseDirectory, "sidus-agent");
            if (!File.Exists(agentPath))
            {
                throw new StoreException($"no node agent at {agentPath}: build it (dotnet publish src/Sidus.Agent -p:PublishAot=true) and give --agent FILE", StoreErrorKind.NotFound);
            }

            var (id, _) = images.Repository.Resolve(result.GetValue(spec)!);
            var files = new InitramfsBuilder(images.Repository).GetOrBuild(id, agentPath, ct);
            File.Copy(files.InitramfsPath, result.GetValue(output)!, overwrite: true);
            if (result.GetValue(kernel) is { } kernelOut)
            {
                File.Copy(files.KernelPath, kernelOut, overwrite: true);
            }

            Console.Error.WriteLine($"{result.GetValue(output)}: kernel {files.KernelRelease}, {files.Modules} modules, {new FileInfo(files.InitramfsPath).Length / 1024} KiB{(files.FromCache ? " (cached)" : string.Empty)}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
