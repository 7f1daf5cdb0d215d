using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sidus.Nodes;
using Sidus.Server.Access;
using Sidus.Server.Hosting;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// Node credentials for tests that fetch what only a booting node may: a ticket as the server issues it with a boot
/// script (the server's own <see cref="NodeAccess"/>), claimed over HTTP with curl as the agent does.
/// </summary>
internal static class NodeSessions
{
    public const string Loopback = "127.0.0.1";

    public static string Ticket(SidusServer server, MacAddress mac, string version, string from = Loopback) =>
        server.Services.GetRequiredService<NodeAccess>().IssueTicket(
            mac, [mac], server.Services.GetRequiredService<Sidus.Server.Inventory.InventoryView>().Current.FindByMac(mac)?.Ip, IPAddress.Parse(from), version, out var why)
        ?? throw new InvalidOperationException("no ticket: " + why);

    /// <summary>POSTs TICKET to the claim route from address FROM; returns the status and the body (the session when 200).</summary>
    public static async Task<(int Status, string Body)> ClaimAsync(string http, string ticket, string from = Loopback)
    {
        var (status, body, _) = await Tools.CurlAsync(http + NodeRoutes.Claim, "--interface", from, "-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", ticket);
        return (status, System.Text.Encoding.UTF8.GetString(body).Trim());
    }

    public static async Task<string> SessionAsync(SidusServer server, MacAddress mac, string version, string from = Loopback)
    {
        var (status, body) = await ClaimAsync($"http://127.0.0.1:{server.HttpEndpoint.Port}", Ticket(server, mac, version, from), from);
        Assert.True(status == 200, $"claim refused ({status}): {body}");
        return body;
    }

    /// <summary>curl's arguments that send SESSION.</summary>
    public static string[] Bearer(string session) => ["-H", "Authorization: " + NodeCredentials.Authorization(session)];
}
