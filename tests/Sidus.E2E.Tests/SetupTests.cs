using System.Diagnostics;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// One-command set-up on a fresh Debian 12 with the .NET SDK (a debootstrap root, <see cref="FreshDebianRoot"/>): the
/// prerequisite step of `./sidus demo` (tools/prerequisites demo boot) and of `./test` (tools/prerequisites test)
/// installs every listed package that is missing, naming each with its reason, starts no server, puts the
/// administrator's policy-rc.d back (also when apt-get fails), and a second run installs nothing and says nothing.
/// Before it, a user who is not root is told the apt-get command, and a sidus run without ./sidus names the same
/// packages.
/// </summary>
public sealed class SetupTests(ITestOutputHelper output)
{
    private const string Prerequisites = FreshDebianRoot.ToolsPath + "/prerequisites";
    private const string Policy = "/usr/sbin/policy-rc.d";
    private const string AdministratorsPolicy = "#!/bin/sh\n# the administrator's own policy\nexit 0\n";
    private static readonly TimeSpan InstallLimit = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan QuickLimit = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan NoOpBudget = TimeSpan.FromSeconds(1);

    /// <summary>The servers among the packages: none may be running after the install.</summary>
    private static readonly string[] Servers = ["nginx", "postgres", "kea-dhcp4", "in.tftpd", "dnsmasq"];

    /// <summary>The lists each command installs, as ./sidus and ./test name them.</summary>
    private static readonly (string Command, string[] Lists)[] Commands = [("./sidus demo", ["demo", "boot"]), ("./test", ["test"])];

    [Fact]
    public void Prerequisites_FreshDebianRoot_InstallWhatIsMissingOnceThenSayNothing()
    {
        var repository = BootImageFixture.RepositoryRoot();
        var clock = Stopwatch.StartNew();
        var root = FreshDebianRoot.Create(repository);
        try
        {
            output.WriteLine($"fresh root {root.Location} in {root.Prepared.TotalSeconds:0.0} s" +
                             (root.Built ? " (debootstrap ran: no cached tarball)" : " (from the cached tarball)"));
            SdkRuns(root);
            var demo = Listed(repository, "demo", "boot");
            NotRoot_ToldTheCommand(root, demo);
            SidusWithoutWrapper_NamesTheSamePackages(root, demo);
            foreach (var (command, lists) in Commands)
            {
                FirstRun_InstallsTheMissingOnes(root, command, lists, Listed(repository, lists));
            }

            foreach (var (command, lists) in Commands)
            {
                SecondRun_SaysNothing(root, command, lists);
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

    /// <summary>Not root, with packages missing: a clear failure naming the apt-get command, nothing installed.</summary>
    private void NotRoot_ToldTheCommand(FreshDebianRoot root, IReadOnlyList<(string Package, string Reason)> demo)
    {
        var missing = Missing(root, demo);
        Assert.NotEmpty(missing);
        var (code, text) = root.Run(QuickLimit, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Prerequisites, "demo", "boot");
        output.WriteLine("not root:\n" + text);
        Assert.Equal(1, code);
        Assert.Contains("apt-get install --no-install-recommends " + string.Join(' ', missing), text, StringComparison.Ordinal);
        Assert.Equal(missing, Missing(root, demo));
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

    private void FirstRun_InstallsTheMissingOnes(FreshDebianRoot root, string command, string[] lists, IReadOnlyList<(string Package, string Reason)> listed)
    {
        var missing = Missing(root, listed);
        Assert.NotEmpty(missing);
        var administrators = command == "./test";
        if (administrators)
        {
            File.WriteAllText(root.Inside(Policy), AdministratorsPolicy);
        }

        var clock = Stopwatch.StartNew();
        var (code, text) = RunListingProcesses(root, InstallLimit, lists);
        output.WriteLine($"{command} first run: {missing.Count} of {listed.Count} packages missing, {clock.Elapsed.TotalSeconds:0.0} s:\n{text}");
        Assert.True(code == 0, $"{command}'s prerequisites failed:\n{text}");
        var said = Said(text).Split('\n');
        foreach (var (package, reason) in listed)
        {
            var named = said.Any(line => line.StartsWith($"  {package} ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(reason, StringComparison.Ordinal));
            Assert.True(named == missing.Contains(package), $"{package}: missing {missing.Contains(package)}, named with its reason {named}");
        }

        Assert.Empty(Missing(root, listed));
        var running = Running(text);
        Assert.True(!running.Intersect(Servers).Any(), $"a server started while packages installed: {string.Join(", ", running)}");
        AssertPolicyPutBack(root, administrators);
    }

    private void SecondRun_SaysNothing(FreshDebianRoot root, string command, string[] lists)
    {
        var clock = Stopwatch.StartNew();
        var (code, text) = root.Run(QuickLimit, [Prerequisites, .. lists]);
        var elapsed = clock.Elapsed;
        output.WriteLine($"{command} second run: {elapsed.TotalMilliseconds:0} ms (namespaces and mounts included)");
        Assert.True(code == 0, text);
        Assert.Equal(string.Empty, text);
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

    /// <summary>Runs the prerequisites, then lists the names of the processes still alive in the root's PID namespace
    /// (a server a package started would be one of them).</summary>
    private static (int Code, string Output) RunListingProcesses(FreshDebianRoot root, TimeSpan limit, string[] lists) =>
        root.Run(limit, ["/bin/sh", "-c", $"{Prerequisites} \"$@\"; code=$?; echo '--- processes'; cat /proc/[0-9]*/comm; exit $code", "sh", .. lists]);

    private static string Said(string text) => text.Split("--- processes")[0];

    private static string[] Running(string text) =>
        text.Split("--- processes").Last().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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
