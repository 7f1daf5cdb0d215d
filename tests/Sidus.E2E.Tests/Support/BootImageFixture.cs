using Sidus.Artifacts.Initramfs;
using Sidus.Store;
using Sidus.Store.Build;
using Sidus.Store.Objects;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A small bookworm image with a kernel and systemd, built once with debootstrap and kept under /var/tmp (the
/// directory name carries the recipe's version: change the recipe, bump it), the node agent published with
/// NativeAOT from this checkout, and the kernel + initramfs the builder makes from them.
/// </summary>
public sealed class BootImageFixture
{
    public const string Image = "e2e-debian";
    private const string RecipeVersion = "v1";
    public static readonly IReadOnlyList<string> Packages = ["systemd-sysv", "linux-image-cloud-amd64", "udev"];

    private static readonly Lock Gate = new();

    public BootImageFixture()
    {
        lock (Gate)
        {
            Prepare(out var home, out var repository, out var version, out var agent, out var boot);
            (Home, Repository, Version, AgentPath, Boot) = (home, repository, version, agent, boot);
        }
    }

    private static void Prepare(out string Home, out Repository Repository, out ObjectId Version, out string AgentPath, out AgentBootFiles Boot)
    {
        Home = $"/var/tmp/sidus-e2e/home-{RecipeVersion}";
        Directory.CreateDirectory(Home);
        Repository = Repository.Open(Home);
        if (Repository.Refs.Head(Image) is null)
        {
            Tool.Require("debootstrap", "debootstrap");
            var request = new BuildRequest("bookworm", Debootstrap.DefaultMirror, Packages, "minbase", "amd64");
            new ImageStore(Repository).BuildAsync(Image, request, "e2e boot image " + RecipeVersion, null, CancellationToken.None).GetAwaiter().GetResult();
        }

        (Version, _) = Repository.Resolve(Image);
        AgentPath = PublishAgent();
        Boot = new InitramfsBuilder(Repository).GetOrBuild(Version, AgentPath, CancellationToken.None);
    }

    public string Home { get; }
    public Repository Repository { get; }
    public ObjectId Version { get; }
    public string AgentPath { get; }
    public AgentBootFiles Boot { get; }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sidus.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the checkout (Sidus.slnx) above " + AppContext.BaseDirectory);
    }

    private static string PublishAgent()
    {
        var root = RepositoryRoot();
        var output = Path.Combine(root, "tests/Sidus.E2E.Tests/bin/agent");
        // Configuration Aot, as ./sidus publishes: its own obj and bin, so the self-contained build never replaces the
        // framework-dependent sidus-agent.runtimeconfig.json the test projects copy from Release.
        Tool.Run(TimeSpan.FromMinutes(8), Tool.Require("dotnet", "dotnet-sdk"), "publish", Path.Combine(root, "src/Sidus.Agent/Sidus.Agent.csproj"),
            "-c", "Aot", "-p:Optimize=true", "-r", "linux-x64", "-p:PublishAot=true", "-p:SelfContained=true", "-o", output, "--nologo", "-v", "q");
        return Path.Combine(output, "sidus-agent");
    }
}
