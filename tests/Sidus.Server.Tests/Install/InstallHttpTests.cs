using System.Text;
using System.Text.Json;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests.Install;

/// <summary>
/// The install routes over real HTTP (curl, loopback): the plan for the disks an agent reports, its refusals, the
/// node key (only to an installing boot's session; it opens the versions of the node's image and nothing else; a
/// revoke ends it), and the report after which the node's network boots are told to boot the disk until
/// `sidus node reinstall`.
/// </summary>
public sealed class InstallHttpTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private const string OneDisk = "sidus-disks 1\nfirmware bios\ndisk vda 8589934592 0 SER1 - pci-0000:00:04.0 - none\n";

    private static string Text(byte[] body) => Encoding.UTF8.GetString(body);

    private async Task<(int Status, string Body)> PostAsync(string route, string body, string credential)
    {
        var (status, answer, _) = await Tools.CurlAsync(f.Http + route, [.. NodeSessions.Bearer(credential), "-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", body]);
        return (status, Text(answer));
    }

    [Fact]
    public async Task Plan_ForTheReportedDisks_DefaultLayout_OrWhyNot()
    {
        var session = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(1), f.VersionId);
        var (status, body) = await PostAsync(InstallPlan.Plan(ServerFixture.Mac(1).ToString()), OneDisk, session);
        Assert.True(status == 200, body);
        var plan = InstallPlan.Parse(body);
        Assert.Equal(f.VersionId, plan.Version);
        Assert.Equal("deb@1", plan.ImageRef);
        Assert.Equal("console=ttyS0 quiet", plan.KernelArgs);
        Assert.Equal("vda", Assert.Single(plan.Disks).Device);

        var small = await PostAsync(InstallPlan.Plan(ServerFixture.Mac(1).ToString()), OneDisk.Replace("8589934592", "104857600", StringComparison.Ordinal), session);
        Assert.Equal(409, small.Status);
        Assert.Contains("does not fit this node's disks", small.Body, StringComparison.Ordinal);
        var garbage = await PostAsync(InstallPlan.Plan(ServerFixture.Mac(1).ToString()), "disks please", session);
        Assert.Equal(400, garbage.Status);

        // A ram node is not installed, whatever its agent asks.
        var ram = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(6), f.VersionId);
        var refused = await PostAsync(InstallPlan.Plan(ServerFixture.Mac(6).ToString()), OneDisk, ram);
        Assert.Equal(409, refused.Status);
        Assert.Contains("is in mode ram, not install", refused.Body, StringComparison.Ordinal);

        // Another node's session is not this node's.
        Assert.Equal(403, (await PostAsync(InstallPlan.Plan(ServerFixture.Mac(1).ToString()), OneDisk, ram)).Status);
        Assert.Contains(f.Log.Lines, l => l.Contains("Install of n1 refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Key_OnlyForASession_OpensTheNodesImage_UntilRevoked()
    {
        var mac = ServerFixture.Mac(1).ToString();
        var session = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(1), f.VersionId);
        var (status, key) = await PostAsync(InstallPlan.Key(mac), string.Empty, session);
        Assert.True(status == 200, key);
        key = key.Trim();
        Assert.True(NodeCredentials.IsWellFormed(key));

        var (opened, openedBody, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(key));
        Assert.True(opened == 200, $"{opened}: {Text(openedBody)}");
        var other = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        var (refused, why, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(other), NodeSessions.Bearer(key));
        Assert.Equal(403, refused);
        Assert.Contains("is not a version of the node's image", Text(why), StringComparison.Ordinal);

        // A key does not make another key, and is no boot session for boot files.
        Assert.Equal(403, (await PostAsync(InstallPlan.Key(mac), string.Empty, key)).Status);
        Assert.Equal(403, (await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz", NodeSessions.Bearer(key))).Status);

        var revoke = await Tools.SidusAsync(f.Home, "node", "revoke", "n1");
        Assert.True(revoke.ExitCode == 0, revoke.Err);
        await Tools.EventuallyAsync(async () => (await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(key))).Status == 403,
            TimeSpan.FromSeconds(10), "the revoked key being refused");
    }

    [Fact]
    public async Task Done_TheNodeBootsItsDisk_UntilReinstall()
    {
        var mac = ServerFixture.Mac(5).ToString();
        var session = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(5), f.VersionId);
        Assert.Equal(400, (await PostAsync(InstallPlan.Installed(mac), "installed soon", session)).Status);
        var (status, body) = await PostAsync(InstallPlan.Installed(mac), InstallPlan.FormatDone(false, f.VersionId), session);
        Assert.True(status == 204, body);

        var script = "";
        await Tools.EventuallyAsync(async () =>
        {
            script = Text((await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(5)}.ipxe")).Body);
            return script.Contains("installed with deb@1: booting from the local disk", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10), "the installed node being told to boot its disk");
        Assert.Contains("exit 1", script, StringComparison.Ordinal);

        var status5 = await Tools.SidusAsync(f.Home, "node", "status", "n5", "--json");
        Assert.True(status5.ExitCode == 0, status5.Err);
        var installed = JsonDocument.Parse(status5.Out).RootElement[0].GetProperty("installed");
        Assert.Equal(f.VersionId, installed.GetProperty("version").GetString());
        Assert.Equal("deb@1", installed.GetProperty("imageRef").GetString());
        var table = await Tools.SidusAsync(f.Home, "node", "status", "n5", "--plain");
        Assert.Contains("installed deb@1", Text(table.Out), StringComparison.Ordinal);

        var reinstall = await Tools.SidusAsync(f.Home, "node", "reinstall", "n5");
        Assert.True(reinstall.ExitCode == 0, reinstall.Err);
        Assert.Contains("n5: installs at its next network boot", Text(reinstall.Out), StringComparison.Ordinal);
        await Tools.EventuallyAsync(async () =>
            !Text((await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(5)}.ipxe")).Body).Contains("local disk", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the reinstalled node no longer told to boot its disk");
        var again = await Tools.SidusAsync(f.Home, "node", "reinstall", "n5", "--json");
        Assert.False(JsonDocument.Parse(again.Out).RootElement[0].GetProperty("wasInstalled").GetBoolean());
    }
}
