using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// Issue 11, findings 4 and 5, on loopback with curl and nbdinfo: a version's manifest, batches, contents, boot files
/// and NBD export only with a credential of that version; events only from the node; one claim per ticket (a second
/// is refused and becomes an alarm in `sidus node status`); a claim supersedes the node's earlier session; `sidus
/// node revoke` closes everything issued before it.
/// </summary>
public sealed class NodeAccessHttpTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private const string OtherVersion = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private static string Text(byte[] body) => Encoding.UTF8.GetString(body);

    private string Kernel => Convert.ToHexStringLower(SHA256.HashData(f.Kernel));

    [Fact]
    public async Task Content_WithoutCredential_401()
    {
        foreach (var path in new[]
        {
            ContentRoutes.ManifestOf(f.VersionId), ContentRoutes.BatchOf(f.VersionId, 0), ContentRoutes.ContentOf(Kernel),
            NodeRoutes.ImageFile(f.VersionId, NodeRoutes.ImageFiles.Kernel), NodeRoutes.ImageFile(f.VersionId, NodeRoutes.ImageFiles.Initrd),
        })
        {
            var (status, body, _) = await Tools.CurlAsync(f.Http + path);
            Assert.True(status == 401, $"{path}: {status}");
            Assert.Contains(": only with a node credential", Text(body), StringComparison.Ordinal);
            Assert.NotEqual(f.Kernel.Length, body.Length);
        }
    }

    /// <summary>An admin token opens every version's files (no node credential needed); a wrong one is refused.</summary>
    [Fact]
    public async Task Content_WithAdminToken_Served_WrongTokenRefused()
    {
        var (manifest, _, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), Tools.Bearer(f.AdminToken));
        Assert.Equal(200, manifest);
        var (content, body, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ContentOf(Kernel), Tools.Bearer(f.AdminToken));
        Assert.Equal(200, content);
        Assert.Equal(f.Kernel, body);
        Assert.Equal(200, (await Tools.CurlAsync(f.Http + ContentRoutes.BatchOf(f.VersionId, 0), Tools.Bearer(f.AdminToken))).Status);
        var (wrong, wrongBody, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ContentOf(Kernel), Tools.Bearer(f.AdminToken[..^2] + "xx"));
        Assert.Equal(403, wrong);
        Assert.NotEqual(f.Kernel.Length, wrongBody.Length);
    }

    [Fact]
    public async Task Content_WithAnotherVersionsSessionOrTicket_Refused()
    {
        var other = NodeSessions.Bearer(await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(0x41), OtherVersion));
        var (manifest, manifestBody, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), other);
        Assert.Equal(403, manifest);
        Assert.Contains($"is for version {OtherVersion[..12]}, not {f.VersionId[..12]}", Text(manifestBody), StringComparison.Ordinal);
        Assert.Equal(403, (await Tools.CurlAsync(f.Http + ContentRoutes.BatchOf(f.VersionId, 0), other)).Status);

        // A content of the fixture's version asked with another version's session: as if it did not exist.
        var (content, contentBody, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ContentOf(Kernel), other);
        Assert.Equal(404, content);
        Assert.NotEqual(f.Kernel.Length, contentBody.Length);

        var ticket = NodeSessions.Ticket(f.Server, ServerFixture.Mac(0x42), OtherVersion);
        Assert.Equal(403, (await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={ticket}")).Status);

        // A ticket is for boot files only, a session not for boot files; an altered credential is nobody's.
        var good = NodeSessions.Ticket(f.Server, ServerFixture.Mac(0x43), f.VersionId);
        Assert.Equal(403, (await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(good))).Status);
        var session = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(0x44), f.VersionId);
        Assert.Equal(403, (await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz", NodeSessions.Bearer(session))).Status);
        var altered = session[..^2] + (session[^2] == 'A' ? "B" : "A") + session[^1];
        var (forged, forgedBody, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(altered));
        Assert.Equal(403, forged);
        Assert.Contains("not issued by this server", Text(forgedBody), StringComparison.Ordinal);
        Assert.Equal(200, (await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(session))).Status);
    }

    [Fact]
    public async Task BootFiles_TicketFromAnotherAddress_Refused()
    {
        var ticket = NodeSessions.Ticket(f.Server, ServerFixture.Mac(0x45), f.VersionId);
        var (status, body, _) = await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={ticket}", "--interface", "127.0.0.9");
        Assert.Equal(403, status);
        Assert.Contains("issued to 127.0.0.1, not 127.0.0.9", Text(body), StringComparison.Ordinal);
        Assert.Equal(f.Kernel, (await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={ticket}")).Body);
    }

    [Fact]
    public async Task Nbd_WithoutCredentialOrForAnotherVersion_RefusedAndNothingBuilt()
    {
        // A version no node boots (the warmer leaves it alone): asking for its export builds nothing.
        var root = Path.Combine(f.Home, "spare-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "hostname"), "spare\n");
        string spare;
        using (var repository = Sidus.Store.Repository.Open(f.Home))
        {
            spare = new Sidus.Store.ImageStore(repository).ImportDirectory("spare", root, "not booted", null, CancellationToken.None).Id.ToString();
        }

        var nbd = $"nbd://127.0.0.1:{f.Server.NbdEndpoint!.Port}/";
        await Tools.EventuallyAsync(async () =>
        {
            var none = await Tools.RunAsync("nbdinfo", [nbd + spare]);
            Assert.NotEqual(0, none.ExitCode);
            return f.Log.Lines.Any(l => l.Contains($"the NBD export of {spare[..12]}: only with a node credential", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(15), "the refusal in the log");
        var session = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(0x46), OtherVersion);
        var other = await Tools.RunAsync("nbdinfo", [nbd + NodeCredentials.ExportName(spare, session)]);
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains(f.Log.Lines, l => l.Contains($"is for version {OtherVersion[..12]}, not {spare[..12]}", StringComparison.Ordinal));
        Assert.DoesNotContain(f.Log.Lines, l => l.Contains("Erofs export of " + spare[..12], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Events_ForgedWithoutOrWithAnotherNodesCredential_Refused()
    {
        var url = $"{f.Http}/api/nodes/{ServerFixture.UrlMac(2)}/events";
        string[] pwned = ["-X", "POST", "-H", "Content-Type: application/json", "--data", "{\"stage\":\"up\",\"detail\":\"host pwned\"}"];
        var (none, noneBody, _) = await Tools.CurlAsync(url, pwned);
        Assert.Equal(401, none);
        Assert.Contains("the events of n2: only with a node credential", Text(noneBody), StringComparison.Ordinal);
        var n6 = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(6), f.VersionId);
        var (other, otherBody, _) = await Tools.CurlAsync(url, [.. NodeSessions.Bearer(n6), .. pwned]);
        Assert.Equal(403, other);
        Assert.Contains("the credential is n6's, not n2's", Text(otherBody), StringComparison.Ordinal);

        var n2 = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(2), f.VersionId);
        Assert.Equal(202, (await Tools.CurlAsync(url, [.. NodeSessions.Bearer(n2), "-X", "POST", "--data", "stage=agent&detail=mine"])).Status);
        await Tools.EventuallyAsync(async () =>
        {
            var r = await Tools.SidusAsync(f.Home, "node", "status", "n2", "--json");
            return JsonDocument.Parse(r.Out).RootElement[0].GetProperty("detail").GetString() == "mine";
        }, TimeSpan.FromSeconds(15), "n2's own event in node status");
        Assert.DoesNotContain("pwned", (await Tools.SidusAsync(f.Home, "node", "status", "n2", "--json")).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Claim_Twice_SecondRefused409AndAlarmInNodeStatus()
    {
        var ticket = NodeSessions.Ticket(f.Server, ServerFixture.Mac(3), f.VersionId);
        var (first, session) = await NodeSessions.ClaimAsync(f.Http, ticket);
        Assert.Equal(200, first);

        // The node asking again at once (its answer lost) gets the same session, and no alarm.
        var (again, same) = await NodeSessions.ClaimAsync(f.Http, ticket);
        Assert.Equal(200, again);
        Assert.Equal(session, same);

        var (second, why) = await NodeSessions.ClaimAsync(f.Http, ticket, "127.0.0.7");
        Assert.Equal(409, second);
        Assert.Contains("claimed a second time, from 127.0.0.7", why, StringComparison.Ordinal);

        // A replay loop raises one alarm a minute, not one a try.
        Assert.Equal(409, (await NodeSessions.ClaimAsync(f.Http, ticket, "127.0.0.8")).Status);
        Assert.Contains(f.Log.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("ALARM n3: the boot ticket", StringComparison.Ordinal));

        var json = await Tools.SidusAsync(f.Home, "node", "status", "n3", "--json");
        var access = JsonDocument.Parse(json.Out).RootElement[0].GetProperty("access");
        Assert.Contains("claimed a second time, from 127.0.0.7", access.GetProperty("alarm").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, access.GetProperty("alarms").GetInt64());
        var table = await Tools.SidusAsync(f.Home, "node", "status", "n3");
        Assert.Contains("ALARM n3 (1 in all", table.Text, StringComparison.Ordinal);

        // The first claimer's session still works; the ticket opens nothing more.
        Assert.Equal(200, (await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(session))).Status);
        Assert.Equal(403, (await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={ticket}")).Status);
    }

    [Fact]
    public async Task Claim_Newer_SupersedesTheNodesEarlierSession()
    {
        var older = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(4), f.VersionId);
        var newer = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(4), f.VersionId);
        var (status, body, _) = await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(older));
        Assert.Equal(403, status);
        Assert.Contains("was superseded by its boot claimed at", Text(body), StringComparison.Ordinal);
        Assert.Equal(200, (await Tools.CurlAsync(f.Http + ContentRoutes.ManifestOf(f.VersionId), NodeSessions.Bearer(newer))).Status);
    }

    [Fact]
    public async Task Revoke_RefusesEverythingIssuedBefore_ShownInNodeStatus()
    {
        var session = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(5), f.VersionId);
        var ticket = NodeSessions.Ticket(f.Server, ServerFixture.Mac(5), f.VersionId);
        var manifest = f.Http + ContentRoutes.ManifestOf(f.VersionId);
        Assert.Equal(200, (await Tools.CurlAsync(manifest, NodeSessions.Bearer(session))).Status);

        var revoke = await Tools.SidusAsync(f.Home, "node", "revoke", "n5");
        Assert.True(revoke.ExitCode == 0, revoke.Err);
        Assert.Contains("revoked the credentials of n5 issued before", revoke.Text, StringComparison.Ordinal);
        await Tools.EventuallyAsync(
            async () => (await Tools.CurlAsync(manifest, NodeSessions.Bearer(session))).Status == 403, TimeSpan.FromSeconds(15), "the revocation reaching the server");
        var (_, body, _) = await Tools.CurlAsync(manifest, NodeSessions.Bearer(session));
        Assert.Contains("the credentials of node n5 were revoked at", Text(body), StringComparison.Ordinal);
        Assert.Equal(403, (await NodeSessions.ClaimAsync(f.Http, ticket)).Status);
        Assert.Equal(403, (await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={ticket}")).Status);
        Assert.Contains("revoked n5: credentials issued before", (await Tools.SidusAsync(f.Home, "node", "status", "n5")).Text, StringComparison.Ordinal);

        // A boot after the revocation gets a ticket that works.
        var again = await NodeSessions.SessionAsync(f.Server, ServerFixture.Mac(5), f.VersionId);
        Assert.Equal(200, (await Tools.CurlAsync(manifest, NodeSessions.Bearer(again))).Status);
        Assert.False((await Tools.SidusAsync(f.Home, "node", "revoke", "nosuchnode")).ExitCode == 0);
    }
}
