using System.Diagnostics;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// One-command set-up on a fresh Debian 12 with the .NET SDK (a debootstrap root, <see cref="FreshDebianRoot"/>):
/// `./sidus demo` and `./test`, run in it as root, first install every package of their lists that is missing, naming
/// each with its reason, starting no server and putting the administrator's policy-rc.d back (also when apt-get
/// fails); only then do they build (which fails at once here: the root has the two scripts and tools/, no sources).
/// Run again, they say nothing about packages, and the check costs well under a second. Before it, a user who is not
/// root is told the apt-get command, and a sidus run without ./sidus names the same packages.
/// </summary>
public sealed class SetupTests(ITestOutputHelper output)
{
    private const string Prerequisites = FreshDebianRoot.ToolsPath + "/prerequisites";
    private const string Policy = "/usr/sbin/policy-rc.d";
    private const string AdministratorsPolicy = "#!/bin/sh\n# the administrator's own policy\nexit 0\n";
    private static readonly TimeSpan InstallLimit = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan QuickLimit = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan NoOpBudget = TimeSpan.FromSeconds(1);

    /// <summary>The servers among the packages: none may be running after the install.</summary>
    private static readonly string[] Servers = ["nginx", "postgres", "kea-dhcp4", "in.tftpd", "dnsmasq"];

    /// <summary>The README's two commands as the root runs them, the lists their prerequisite step must install, and
    /// what each prints once past that step (its build failing).</summary>
    private sealed record ReadmeCommand(string Name, string[] Line, string[] Lists, string PastPrerequisites);

    private static readonly ReadmeCommand[] Commands =
    [
        new("./sidus demo", [FreshDebianRoot.CheckoutPath + "/sidus", "demo"], ["demo", "boot"], "sidus: building the CLI failed"),
        new("./test", [FreshDebianRoot.CheckoutPath + "/test"], ["test", "build"], "0 passed, 0 failed"),
    ];

    [Fact]
    public void ReadmeCommands_FreshDebianRoot_InstallWhatIsMissingBeforeBuildingThenSayNothing()
    {
        var repository = BootImageFixture.RepositoryRoot();
        var clock = Stopwatch.StartNew();
        var root = FreshDebianRoot.Create(repository);
        try
        {
            output.WriteLine($"fresh root {root.Location} in {root.Prepared.TotalSeconds:0.0} s" +
                             (root.Built ? " (debootstrap ran: no cached tarball)" : " (from the cached tarball)"));
            SdkRuns(root);
            var demo = Listed(repository, Commands[0].Lists);
            NotRoot_ToldTheCommand(root, Commands[0], demo);
            SidusWithoutWrapper_NamesTheSamePackages(root, demo);
            foreach (var command in Commands)
            {
                FirstRun_InstallsTheMissingOnesBeforeBuilding(root, command, Listed(repository, command.Lists));
            }

            foreach (var command in Commands)
            {
                SecondRun_SaysNothing(root, command);
            }

            AptFails_PolicyPutBack(root);
            Assert.Empty(root.HostMountsUnder());
        }
        finally
        {
            root.Dispose();
        }

        Assert.False(Directory.Exists(root.Location), "the root was not removed");
        output.WriteLine($"whole test {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>The SDK copied in works in the root: the same version as on the host.</summary>
    private void SdkRuns(FreshDebianRoot root)
    {
        var host = Tool.Run(Tool.Require("dotnet", "dotnet-sdk"), "--version").Trim();
        var (code, text) = root.Run(QuickLimit, "dotnet", "--version");
        Assert.True(code == 0, "dotnet --version failed in the root: " + text);
        Assert.Equal(host, text.Trim());
        output.WriteLine($"dotnet --version in the root: {text.Trim()}");
    }

    /// <summary>Not root, with packages missing: a clear failure naming the apt-get command, before any build, and
    /// nothing installed.</summary>
    private void NotRoot_ToldTheCommand(FreshDebianRoot root, ReadmeCommand command, IReadOnlyList<(string Package, string Reason)> listed)
    {
        var missing = Missing(root, listed);
        Assert.NotEmpty(missing);
        var (code, text) = root.Run(QuickLimit, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", .. command.Line]);
        output.WriteLine($"{command.Name} not as root:\n{text}");
        Assert.Equal(1, code);
        Assert.Contains("apt-get install --no-install-recommends " + string.Join(' ', missing), text, StringComparison.Ordinal);
        Assert.DoesNotContain(command.PastPrerequisites, text, StringComparison.Ordinal);
        Assert.Equal(missing, Missing(root, listed));
    }

    /// <summary>A sidus not started by ./sidus checks the demo's tools itself, before building anything, and names
    /// the packages of the same lists.</summary>
    private void SidusWithoutWrapper_NamesTheSamePackages(FreshDebianRoot root, IReadOnlyList<(string Package, string Reason)> demo)
    {
        var (code, text) = root.Run(QuickLimit, "dotnet", FreshDebianRoot.SidusPath + "/sidus.dll", "--home", "/tmp/sidus-home", "demo");
        output.WriteLine("sidus demo without ./sidus:\n" + text);
        Assert.NotEqual(0, code);
        Assert.Contains("apt-get install --no-install-recommends " + string.Join(' ', demo.Select(p => p.Package)), text, StringComparison.Ordinal);
        Assert.DoesNotContain("== 1.", text, StringComparison.Ordinal);
    }

    /// <summary>The command names exactly the missing packages with their reasons, installs them, and only then
    /// goes on to its build; no server runs afterwards; the policy-rc.d is as it was (for ./test, the
    /// administrator's own, which lets services start: a server would run had it been used).</summary>
    private void FirstRun_InstallsTheMissingOnesBeforeBuilding(FreshDebianRoot root, ReadmeCommand command, IReadOnlyList<(string Package, string Reason)> listed)
    {
        var missing = Missing(root, listed);
        Assert.NotEmpty(missing);
        var administrators = command.Name == "./test";
        if (administrators)
        {
            File.WriteAllText(root.Inside(Policy), AdministratorsPolicy);
        }

        var clock = Stopwatch.StartNew();
        var (_, text) = RunListingProcesses(root, InstallLimit, command.Line);
        var said = text.Split(ProcessesMarker)[0];
        output.WriteLine($"{command.Name} first run: {missing.Count} of {listed.Count} packages missing, {clock.Elapsed.TotalSeconds:0.0} s:\n{said}");
        var installed = said.IndexOf($"Installed {missing.Count} packages in ", StringComparison.Ordinal);
        Assert.True(installed >= 0, $"{command.Name} did not install the missing packages:\n{said}");
        Assert.True(said.IndexOf(command.PastPrerequisites, StringComparison.Ordinal) > installed,
            $"{command.Name} did not go on to its build after the packages:\n{said}");
        var lines = said.Split('\n');
        foreach (var (package, reason) in listed)
        {
            var named = lines.Any(line => line.StartsWith($"  {package} ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(reason, StringComparison.Ordinal));
            Assert.True(named == missing.Contains(package), $"{package}: missing {missing.Contains(package)}, named with its reason {named}");
        }

        Assert.Empty(Missing(root, listed));
        var running = text.Split(ProcessesMarker)[1].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(!running.Intersect(Servers).Any(), $"a server started while packages installed: {string.Join(", ", running)}");
        AssertPolicyPutBack(root, administrators);
    }

    /// <summary>Nothing missing: the command says nothing about packages and goes straight to its build; the check
    /// alone prints nothing and costs well under a second.</summary>
    private void SecondRun_SaysNothing(FreshDebianRoot root, ReadmeCommand command)
    {
        var (_, text) = root.Run(QuickLimit, ["/bin/sh", "-c", "\"$@\" 2>&1", "sh", .. command.Line]);
        Assert.DoesNotContain("Debian packages", text, StringComparison.Ordinal);
        Assert.StartsWith(command.PastPrerequisites, text.Trim().Split('\n')[^1], StringComparison.Ordinal);
        var clock = Stopwatch.StartNew();
        var (code, check) = root.Run(QuickLimit, [Prerequisites, .. command.Lists]);
        var elapsed = clock.Elapsed;
        output.WriteLine($"{command.Name} second run: says nothing; the check {elapsed.TotalMilliseconds:0} ms (namespaces and mounts included)");
        Assert.True(code == 0, check);
        Assert.Equal(string.Empty, check);
        Assert.True(elapsed < NoOpBudget, $"the no-op check took {elapsed}");
    }

    /// <summary>apt-get fails (a package no mirror has): the failure is said, and the administrator's policy-rc.d
    /// is back.</summary>
    private void AptFails_PolicyPutBack(FreshDebianRoot root)
    {
        File.WriteAllText(root.Inside(FreshDebianRoot.ToolsPath + "/packages/broken.txt"), "sidus-no-such-package   no mirror has it\n");
        File.WriteAllText(root.Inside(Policy), AdministratorsPolicy);
        var (code, text) = root.Run(InstallLimit, Prerequisites, "broken");
        output.WriteLine("apt-get failing:\n" + text);
        Assert.Equal(1, code);
        Assert.Contains("sidus-no-such-package", text, StringComparison.Ordinal);
        Assert.Contains("apt-get failed", text, StringComparison.Ordinal);
        AssertPolicyPutBack(root, administrators: true);
    }

    private static void AssertPolicyPutBack(FreshDebianRoot root, bool administrators)
    {
        if (administrators)
        {
            Assert.Equal(AdministratorsPolicy, File.ReadAllText(root.Inside(Policy)));
        }
        else
        {
            Assert.False(File.Exists(root.Inside(Policy)), "the prerequisites left their policy-rc.d behind");
        }

        Assert.False(File.Exists(root.Inside(Policy + ".sidus-saved")), "the saved policy-rc.d was left behind");
    }

    private const string ProcessesMarker = "--- processes";

    /// <summary>Runs LINE, then lists the names of the processes still alive in the root's PID namespace (a server a
    /// package started would be one of them).</summary>
    private static (int Code, string Output) RunListingProcesses(FreshDebianRoot root, TimeSpan limit, string[] line) =>
        root.Run(limit, ["/bin/sh", "-c", $"\"$@\" 2>&1; echo '{ProcessesMarker}'; cat /proc/[0-9]*/comm", "sh", .. line]);

    /// <summary>The packages of LISTS in the repository's tools/packages, read here independently of the script.</summary>
    private static List<(string Package, string Reason)> Listed(string repository, params string[] lists) =>
        [.. lists.SelectMany(list => File.ReadLines(Path.Combine(repository, "tools/packages", list + ".txt")))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split(' ', 2, StringSplitOptions.TrimEntries))
            .Select(parts => (parts[0], parts[1]))];

    /// <summary>The listed packages dpkg inside the root does not have installed, in list order.</summary>
    private static List<string> Missing(FreshDebianRoot root, IReadOnlyList<(string Package, string Reason)> listed)
    {
        var packages = listed.Select(p => p.Package).Distinct().ToList();
        var (_, text) = root.Run(QuickLimit, ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\\n", .. packages]);
        var installed = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Where(parts => parts.Length == 2 && parts[1] == "installed")
            .Select(parts => parts[0])
            .ToHashSet(StringComparer.Ordinal);
        return [.. packages.Where(p => !installed.Contains(p))];
    }
}
