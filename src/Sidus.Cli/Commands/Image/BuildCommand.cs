using Sidus.Store.Build;

namespace Sidus.Cli.Commands.Image;

public static class BuildCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Image to build (a new version is added if it exists)" };
        var suite = new Option<string>("--suite") { Description = "Debian or Ubuntu suite: bookworm, trixie, noble...", Required = true };
        var mirror = new Option<string>("--mirror") { Description = "Package mirror", DefaultValueFactory = _ => Debootstrap.DefaultMirror, HelpName = "URL" };
        var include = new Option<string[]>("--include") { Description = "Extra packages, comma-separated (e.g. systemd-sysv,linux-image-cloud-amd64,openssh-server)", AllowMultipleArgumentsPerToken = true, HelpName = "P1,P2" };
        var variant = new Option<string>("--variant") { Description = "debootstrap variant: minbase, buildd, or '' for the default set", DefaultValueFactory = _ => "minbase" };
        var arch = new Option<string>("--arch") { Description = "Architecture", DefaultValueFactory = _ => Debootstrap.HostArchitecture() };
        var message = new Option<string?>("--message", "-m") { Description = "What this version is" };
        var json = GlobalOptions.Json();
        var command = new Command("build", "Build a Debian/Ubuntu image from scratch with debootstrap, straight into the store")
        {
            name, suite, mirror, include, variant, arch, message, json, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.RunAsync(result, cancellation, async (images, ct) =>
        {
            var packages = (result.GetValue(include) ?? []).SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var request = new BuildRequest(result.GetValue(suite)!, result.GetValue(mirror)!, packages, result.GetValue(variant) ?? string.Empty, result.GetValue(arch)!);
            var text = result.GetValue(message) ?? $"debootstrap {request.Suite} ({(request.Variant.Length == 0 ? "default" : request.Variant)}{(packages.Count > 0 ? " + " + string.Join(',', packages) : string.Empty)})";
            using var progress = new ConsoleProgress(!result.GetValue(json));
            var version = await images.BuildAsync(result.GetValue(name)!, request, text, progress, ct);
            progress.Dispose();
            VersionOutput.Print(version, result.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }
}
