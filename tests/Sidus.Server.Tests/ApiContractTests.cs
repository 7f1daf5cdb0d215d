using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Store;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// The HTTP API against its OpenAPI document, over real HTTP with curl: the document loads without errors in
/// Microsoft.OpenApi's reader; every operation it lists is called on a live server, and each answer's status is one
/// the document gives for that operation, with a body that has the documented schema's required fields and types
/// (errors: RFC 9457 problem documents). The API's answers are the CLI's --json, byte for byte as JSON values.
/// </summary>
public sealed class ApiContractTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-api-" + Guid.NewGuid().ToString("N")[..12]);
    private InventoryStore _inventory = null!;
    private string _token = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        _inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await _inventory.EditAsync(async e =>
        {
            await e.AddGroupAsync(new Group { Name = "lab", Description = "the lab", Settings = new NodeSettings { Mode = BootMode.Ram } });
            await e.AddNodeAsync(new Node { Name = "n1", Macs = [ServerFixture.Mac(1)], Groups = ["lab"], Settings = new NodeSettings { Image = "demo" } });
        });
        _token = (await _inventory.EditAsync(e => e.AddAdminTokenAsync("admin", DateTimeOffset.UtcNow, null))).Secret;

        // An image with two versions: one file changed, one added.
        var root = Path.Combine(_home, "root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "hostname"), "one\n");
        using var repository = Repository.Open(_home);
        var images = new ImageStore(repository);
        images.ImportDirectory("demo", root, "first", null, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "hostname"), "two\n");
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "motd"), "hello\n");
        images.ImportDirectory("demo", root, "second", null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _inventory.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    private Task<SidusServer> StartAsync() => SidusServer.StartAsync(new ServeOptions
    {
        Home = _home,
        Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
        Tftp = new TftpSettings { Enabled = false },
        Nbd = new NbdSettings { Enabled = false },
        InventoryPollInterval = TimeSpan.FromMilliseconds(200),
    });

    /// <summary>One call: the document's path and method, the URL's path, a body, and the status this call must get.</summary>
    private sealed record Call(string Template, string Method, string Path, string? Body, int Expect, bool Auth = true);

    /// <summary>A layout's PUT body: one disk, an ESP of ESP_SIZE, the rest root.</summary>
    private static string LayoutBody(string espSize) => new System.Text.Json.Nodes.JsonObject
    {
        ["text"] = "version: 1\nitems:\n  - {id: d, type: disk, match: {first: true}}\n"
            + $"  - {{id: esp, type: partition, disk: d, size: {espSize}, flags: [esp]}}\n"
            + "  - {id: rootp, type: partition, disk: d, size: rest}\n  - {id: espfs, type: format, volume: esp, fstype: vfat}\n"
            + "  - {id: rootfs, type: format, volume: rootp, fstype: ext4}\n  - {id: root, type: mount, device: rootfs, path: /}\n",
    }.ToJsonString();

    /// <summary>Every operation, in an order that makes sense (create, read, change, remove), with some refusals.</summary>
    private static readonly Call[] Calls =
    [
        new("/api/openapi.json", "GET", "/api/openapi.json", null, 200, Auth: false),
        new("/api/nodes", "GET", "/api/nodes", null, 200),
        new("/api/nodes", "GET", "/api/nodes?group=nope", null, 404),
        new("/api/nodes", "GET", "/api/nodes", null, 401, Auth: false),
        new("/api/nodes/{name}", "GET", "/api/nodes/n1", null, 200),
        new("/api/nodes/{name}", "GET", "/api/nodes/52:54:00:00:01:01", null, 200),
        new("/api/nodes/{name}", "GET", "/api/nodes/ghost", null, 404),
        new("/api/groups/{name}", "PUT", "/api/groups/gpu", """{"description": "GPUs", "settings": {"kernelArgs": "quiet", "tags": {"rack": "r1"}}}""", 201),
        new("/api/groups/{name}", "PUT", "/api/groups/gpu", """{"description": "GPU nodes", "settings": {"kernelArgs": "quiet"}}""", 200),
        new("/api/groups/{name}", "PATCH", "/api/groups/gpu", """{"settings": {"tags": {"row": "7"}}}""", 200),
        new("/api/groups/{name}", "PATCH", "/api/groups/gpu", """{"settings": {"updateExcludes": ["/srv/site", "/scratch/*"]}}""", 200),
        new("/api/groups/{name}", "PATCH", "/api/groups/nope", """{"description": "x"}""", 404),
        new("/api/groups", "GET", "/api/groups", null, 200),
        new("/api/groups/{name}", "GET", "/api/groups/gpu", null, 200),
        new("/api/nodes/{name}", "PUT", "/api/nodes/n2", """{"macs": ["52:54:00:00:02:02"], "ip": "10.0.0.12", "groups": ["gpu"], "settings": {"image": "demo@1", "mode": "shared"}}""", 201),
        new("/api/nodes/{name}", "PUT", "/api/nodes/n3", """{"macs": ["52:54:00:00:02:02"]}""", 409),
        new("/api/nodes/{name}", "PUT", "/api/nodes/n3", """{"macs": ["not-a-mac"]}""", 400),
        new("/api/nodes/{name}", "PUT", "/api/nodes/n3", """{"macs": ["52:54:00:00:03:03"], "colour": "red"}""", 400),
        new("/api/nodes/{name}", "PUT", "/api/nodes/n3", """[1, 2]""", 400),
        new("/api/nodes/{name}", "PATCH", "/api/nodes/n2", """{"settings": {"mode": null, "tags": {"owner": "ops"}}}""", 200),
        new("/api/nodes/{name}", "PATCH", "/api/nodes/n2", """{"revision": 1, "ip": null}""", 409),
        new("/api/nodes/{name}", "PATCH", "/api/nodes/n2", """{"settings": {"updateExcludes": ["opt/relative"]}}""", 400),
        new("/api/nodes/{name}", "PATCH", "/api/nodes/n2", """{"settings": {"updateExcludes": ["/etc/local.conf"]}}""", 200),
        new("/api/nodes/{name}", "PATCH", "/api/nodes/ghost", """{"ip": null}""", 404),
        new("/api/nodes/{name}/status", "GET", "/api/nodes/n1/status", null, 200),
        new("/api/nodes/{name}/status", "GET", "/api/nodes/ghost/status", null, 404),
        new("/api/boots", "GET", "/api/boots", null, 200),
        new("/api/boots", "GET", "/api/boots?node=ghost", null, 404),
        new("/api/defaults", "PUT", "/api/defaults", """{"mode": "ram", "kernelArgs": "console=ttyS0"}""", 200),
        new("/api/defaults", "PATCH", "/api/defaults", """{"tags": {"site": "lyon"}}""", 200),
        new("/api/defaults", "PATCH", "/api/defaults", """{"mode": "warp"}""", 400),
        new("/api/defaults", "GET", "/api/defaults", null, 200),
        new("/api/networks/{name}", "PUT", "/api/networks/lab", """{"subnet": "10.0.0.0/24", "unknown": "boot", "group": "gpu"}""", 201),
        new("/api/networks/{name}", "PUT", "/api/networks/other", """{"subnet": "10.1.0.0/24", "unknown": "boot", "group": "nope"}""", 404),
        new("/api/networks/{name}", "PATCH", "/api/networks/lab", """{"unknown": "discover"}""", 200),
        new("/api/networks/{name}", "PATCH", "/api/networks/nope", """{"unknown": "discover"}""", 404),
        new("/api/networks/{name}", "PUT", "/api/networks/bad", """{"subnet": "10.0.0.0/99"}""", 400),
        new("/api/networks", "GET", "/api/networks", null, 200),
        new("/api/networks/{name}", "GET", "/api/networks/lab", null, 200),
        new("/api/networks/{name}", "GET", "/api/networks/nope", null, 404),
        new("/api/layouts/{name}", "PUT", "/api/layouts/small", LayoutBody("512MiB"), 201),
        new("/api/layouts/{name}", "PUT", "/api/layouts/small", LayoutBody("1GiB"), 200),
        new("/api/layouts/{name}", "PUT", "/api/layouts/small", LayoutBody("lots"), 400),
        new("/api/layouts/{name}", "PUT", "/api/layouts/small", """{"text": "items: []", "colour": "red"}""", 400),
        new("/api/layouts", "GET", "/api/layouts", null, 200),
        new("/api/layouts/{name}", "GET", "/api/layouts/small", null, 200),
        new("/api/layouts/{name}", "GET", "/api/layouts/small?revision=1", null, 200),
        new("/api/layouts/{name}", "GET", "/api/layouts/small?revision=9", null, 404),
        new("/api/layouts/{name}", "GET", "/api/layouts/ghost", null, 404),
        new("/api/nodes/{name}", "PATCH", "/api/nodes/n2", """{"settings": {"layout": "small"}}""", 200),
        new("/api/nodes/{name}", "PATCH", "/api/nodes/n2", """{"settings": {"layout": "ghost"}}""", 404),
        new("/api/layouts/{name}", "DELETE", "/api/layouts/small", null, 409),
        new("/api/layouts/{name}", "DELETE", "/api/layouts/small?force=true", null, 204),
        new("/api/layouts/{name}", "DELETE", "/api/layouts/small", null, 404),
        new("/api/groups/{name}", "DELETE", "/api/groups/gpu", null, 409),
        new("/api/networks/{name}", "DELETE", "/api/networks/lab", null, 204),
        new("/api/networks/{name}", "DELETE", "/api/networks/lab", null, 404),
        new("/api/groups/{name}", "DELETE", "/api/groups/gpu?force=maybe", null, 400),
        new("/api/groups/{name}", "DELETE", "/api/groups/gpu?force=true", null, 204),
        new("/api/groups/{name}", "GET", "/api/groups/gpu", null, 404),
        new("/api/groups/{name}", "DELETE", "/api/groups/gpu", null, 404),
        new("/api/nodes/{name}", "DELETE", "/api/nodes/n2", null, 204),
        new("/api/nodes/{name}", "DELETE", "/api/nodes/n2", null, 404),
        new("/api/apply", "POST", "/api/apply?dry-run=true", "nodes:\n  - name: n9\n    mac: 52:54:00:00:09:09\n", 200),
        new("/api/apply", "POST", "/api/apply", "nodes:\n  - name: n9\n    mdoe: ram\n", 400),
        new("/api/apply", "POST", "/api/apply", "nodes: []\n", 401, Auth: false),
        new("/api/status", "GET", "/api/status", null, 200),
        new("/api/exports", "GET", "/api/exports", null, 200),
        new("/api/images", "GET", "/api/images", null, 200),
        new("/api/images/{name}", "GET", "/api/images/demo", null, 200),
        new("/api/images/{name}", "GET", "/api/images/nope", null, 404),
        new("/api/images/{name}", "GET", "/api/images/-bad", null, 400),
        new("/api/images/{name}/versions", "GET", "/api/images/demo/versions", null, 200),
        new("/api/images/{name}/versions", "GET", "/api/images/nope/versions", null, 404),
        new("/api/images/{name}/versions/{version}", "GET", "/api/images/demo/versions/1", null, 200),
        new("/api/images/{name}/versions/{version}", "GET", "/api/images/demo/versions/9", null, 404),
        new("/api/images/{name}/tags/{tag}", "PUT", "/api/images/demo/tags/prod", """{"version": "1"}""", 200),
        new("/api/images/{name}/tags/{tag}", "PUT", "/api/images/demo/tags/prod", """{"version": 9}""", 404),
        new("/api/images/{name}/tags/{tag}", "PUT", "/api/images/demo/tags/bad%20tag", "{}", 400),
        new("/api/images/{name}/versions/{version}", "GET", "/api/images/demo/versions/:prod", null, 200),
        new("/api/images/{name}/diff", "GET", "/api/images/demo/diff?from=1&to=2", null, 200),
        new("/api/images/{name}/diff", "GET", "/api/images/demo/diff", null, 400),
        new("/api/images/{name}/rollback", "POST", "/api/images/demo/rollback", """{"version": ":prod"}""", 201),
        new("/api/images/{name}/rollback", "POST", "/api/images/demo/rollback", "{}", 400),
        new("/api/images/{name}/tags/{tag}", "DELETE", "/api/images/demo/tags/prod", null, 204),
        new("/api/images/{name}/tags/{tag}", "DELETE", "/api/images/demo/tags/prod", null, 404),
        new("/api/images/{name}/versions/{version}", "DELETE", "/api/images/demo/versions/1", null, 204),
        new("/api/images/{name}/versions/{version}", "DELETE", "/api/images/demo/versions/1", null, 404),
        new("/api/images/{name}/versions/{version}", "DELETE", "/api/images/demo/versions/3", null, 409), // n1 boots it
        new("/api/images/{name}", "DELETE", "/api/images/demo", null, 409), // n1 boots it
        new("/api/images/{name}", "DELETE", "/api/images/demo?force=true", null, 204),
        new("/api/images/{name}", "DELETE", "/api/images/demo", null, 404),
        new("/metrics", "GET", "/metrics", null, 200),
        new("/metrics", "GET", "/metrics", null, 401, Auth: false),
    ];

    [Fact]
    public async Task EveryOperation_AnswersAsTheOpenApiDocumentSays()
    {
        await using var server = await StartAsync();
        var http = $"http://127.0.0.1:{server.HttpEndpoint.Port}";
        var (status, raw, _) = await Tools.CurlAsync(http + "/api/openapi.json");
        Assert.Equal(200, status);

        // The reader takes the document: no errors, and every operation is one we call.
        var read = OpenApiDocument.Parse(Encoding.UTF8.GetString(raw), "json");
        Assert.True(read.Diagnostic is null || read.Diagnostic.Errors.Count == 0,
            "the OpenAPI document has errors: " + string.Join("; ", read.Diagnostic?.Errors.Select(e => e.ToString()) ?? []));
        var documented = read.Document!.Paths.SelectMany(p => p.Value.Operations!.Keys.Select(m => (p.Key, Method: m.ToString().ToUpperInvariant()))).ToHashSet();
        var called = Calls.Select(c => (c.Template, c.Method)).ToHashSet();
        Assert.Empty(documented.Except(called));
        Assert.Empty(called.Except(documented));
        Assert.True(documented.Count >= 30, $"only {documented.Count} operations documented");

        using var doc = JsonDocument.Parse(raw);
        var schemas = new SchemaCheck(doc.RootElement);
        foreach (var call in Calls)
        {
            string[] args = ["-X", call.Method, .. call.Auth ? Tools.Bearer(_token) : []];
            if (call.Body is { } body)
            {
                args = [.. args, "-H", call.Template == "/api/apply" ? "Content-Type: application/yaml" : "Content-Type: application/json", "--data-binary", body];
            }

            var (got, answer, headers) = await Tools.CurlAsync(http + call.Path, args);
            var what = $"{call.Method} {call.Path} -> {got}: {Encoding.UTF8.GetString(answer)}";
            Assert.True(got == call.Expect, what);
            var responses = doc.RootElement.GetProperty("paths").GetProperty(call.Template).GetProperty(call.Method.ToLowerInvariant()).GetProperty("responses");
            Assert.True(responses.TryGetProperty(got.ToString(System.Globalization.CultureInfo.InvariantCulture), out var documentedAnswer), "undocumented status: " + what);
            if (!documentedAnswer.TryGetProperty("content", out var content))
            {
                Assert.Empty(answer);
                continue;
            }

            var (type, media) = content.EnumerateObject().Single() is var m ? (m.Name, m.Value) : default;
            Assert.Contains("content-type: " + type, headers, StringComparison.OrdinalIgnoreCase);
            if (type.EndsWith("json", StringComparison.Ordinal))
            {
                using var parsed = JsonDocument.Parse(answer);
                var problems = schemas.Check(media.GetProperty("schema"), parsed.RootElement, "$");
                Assert.True(problems.Count == 0, what + "\n" + string.Join("\n", problems));
            }
        }
    }

    [Fact]
    public async Task Answers_AreTheCliJson()
    {
        await _inventory.EditAsync(e => e.SetLayoutAsync("small", System.Text.Json.Nodes.JsonNode.Parse(LayoutBody("512MiB"))!["text"]!.GetValue<string>(), DateTimeOffset.UtcNow));
        await _inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "n2", Macs = [ServerFixture.Mac(2)], Settings = new NodeSettings { KernelArgs = "quiet", Layout = "small", Tags = ImmutableTags("rack", "r1") } }));
        await using var server = await StartAsync();
        var http = $"http://127.0.0.1:{server.HttpEndpoint.Port}";
        (string Api, string[] Cli)[] pairs =
        [
            ("/api/nodes", ["node", "list", "--json"]),
            ("/api/nodes/n2", ["node", "show", "n2", "--json"]),
            ("/api/groups", ["group", "list", "--json"]),
            ("/api/networks", ["network", "list", "--json"]),
            ("/api/layouts", ["layout", "list", "--json"]),
            ("/api/layouts/small", ["layout", "show", "small", "--json"]),
            ("/api/boots", ["node", "status", "--json"]),
            ("/api/images", ["image", "list", "--json"]),
            ("/api/images/demo", ["image", "show", "demo", "--json"]),
            ("/api/images/demo/versions", ["image", "log", "demo", "--json"]),
            ("/api/images/demo/diff?from=1&to=2", ["image", "diff", "demo@1", "demo@2", "--json"]),
        ];
        foreach (var (api, cli) in pairs)
        {
            var (status, body, _) = await Tools.CurlAsync(http + api, Tools.Bearer(_token));
            Assert.Equal(200, status);
            var printed = await Tools.SidusAsync(_home, cli);
            Assert.True(printed.ExitCode == 0, printed.Err);
            using var fromApi = JsonDocument.Parse(body);
            using var fromCli = JsonDocument.Parse(printed.Text);
            Assert.True(JsonElement.DeepEquals(fromApi.RootElement, fromCli.RootElement), $"{api} differs from sidus {string.Join(' ', cli)}:\n{Encoding.UTF8.GetString(body)}\n---\n{printed.Text}");
        }
    }

    [Fact]
    public async Task Layout_PutGetHistoryAndRefusal_TheProblemNamesTheLine()
    {
        await using var server = await StartAsync();
        var url = $"http://127.0.0.1:{server.HttpEndpoint.Port}/api/layouts/small";
        string[] Put(string body) => ["-X", "PUT", "-H", "Content-Type: application/json", "--data-binary", body, .. Tools.Bearer(_token)];

        var (created, first, _) = await Tools.CurlAsync(url, Put(LayoutBody("512MiB")));
        Assert.True(created == 201, Encoding.UTF8.GetString(first));
        var (changed, second, _) = await Tools.CurlAsync(url, Put(LayoutBody("1GiB")));
        Assert.Equal(200, changed);
        var layout = JsonDocument.Parse(second).RootElement;
        Assert.Equal((2, 2), (layout.GetProperty("revision").GetInt64(), layout.GetProperty("revisions").GetInt64()));
        Assert.Contains("size: 1GiB", layout.GetProperty("text").GetString(), StringComparison.Ordinal);
        var (_, old, _) = await Tools.CurlAsync(url + "?revision=1", Tools.Bearer(_token));
        Assert.Contains("size: 512MiB", JsonDocument.Parse(old).RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await _inventory.LoadAsync()).Layout("small")!.Revision);

        // What a GET gave can be PUT back; with a revision that moved on since, it is refused.
        var (again, _, _) = await Tools.CurlAsync(url, Put(Encoding.UTF8.GetString(second)));
        Assert.Equal(200, again);
        var (stale, _, _) = await Tools.CurlAsync(url, Put(Encoding.UTF8.GetString(first).Replace("512MiB", "2GiB", StringComparison.Ordinal)));
        Assert.Equal(409, stale);

        // Line 4 of the text: an ESP size that is no size; the problem has the line and column.
        var (refused, problem, _) = await Tools.CurlAsync(url, Put(LayoutBody("lots")));
        Assert.Equal(400, refused);
        var p = JsonDocument.Parse(problem).RootElement;
        Assert.StartsWith("small:4:", p.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, p.GetProperty("line").GetInt32());
        Assert.Equal(2, (await _inventory.LoadAsync()).Layout("small")!.Revision);
    }

    [Fact]
    public async Task Node_WhatAGetGives_CanBeChangedAndPutBack_AndAStaleRevisionIsRefused()
    {
        await using var server = await StartAsync();
        var url = $"http://127.0.0.1:{server.HttpEndpoint.Port}/api/nodes/n1";
        var (_, read, _) = await Tools.CurlAsync(url, Tools.Bearer(_token));
        var edited = Encoding.UTF8.GetString(read).Replace("\"kernelArgs\": null", "\"kernelArgs\": \"quiet\"", StringComparison.Ordinal);
        Assert.Contains("\"quiet\"", edited, StringComparison.Ordinal);

        var (status, body, _) = await Tools.CurlAsync(url, ["-X", "PUT", "--data-binary", edited, .. Tools.Bearer(_token)]);
        Assert.True(status == 200, Encoding.UTF8.GetString(body));
        var node = JsonDocument.Parse(body).RootElement;
        Assert.Equal("quiet", node.GetProperty("settings").GetProperty("kernelArgs").GetString());
        Assert.Equal("lab", node.GetProperty("groups")[0].GetString());
        Assert.Equal(2, node.GetProperty("revision").GetInt64());
        Assert.Equal("quiet", (await _inventory.GetNodeAsync("n1"))!.Settings.KernelArgs);

        // The same body again carries revision 1: someone changed the node since, so it is refused.
        var (stale, problem, _) = await Tools.CurlAsync(url, ["-X", "PUT", "--data-binary", edited, .. Tools.Bearer(_token)]);
        Assert.Equal(409, stale);
        Assert.Contains("changed by someone else", Encoding.UTF8.GetString(problem), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_AreProblemDocuments_ForAuthUnknownRoutesWrongMethodsAndYamlLines()
    {
        await using var server = await StartAsync();
        var http = $"http://127.0.0.1:{server.HttpEndpoint.Port}";

        var (s401, b401, h401) = await Tools.CurlAsync(http + "/api/groups");
        Assert.Equal(401, s401);
        Assert.Contains("www-authenticate: Bearer", h401, StringComparison.OrdinalIgnoreCase);
        AssertProblem(b401, h401, 401, "Unauthorized", "admin token");

        var (s403, b403, h403) = await Tools.CurlAsync(http + "/api/groups", Tools.Bearer("sidus_guess"));
        AssertProblem(b403, h403, s403, "Forbidden", "not valid");

        var (s404, b404, h404) = await Tools.CurlAsync(http + "/api/nope", Tools.Bearer(_token));
        Assert.Equal(404, s404);
        AssertProblem(b404, h404, 404, "Not Found", "/api/openapi.json");

        var (s405, b405, h405) = await Tools.CurlAsync(http + "/api/groups", ["-X", "DELETE", .. Tools.Bearer(_token)]);
        Assert.Equal(405, s405);
        Assert.Contains("allow: GET", h405, StringComparison.OrdinalIgnoreCase);
        AssertProblem(b405, h405, 405, "Method Not Allowed", "DELETE is not allowed");

        var (s400, b400, h400) = await Tools.CurlAsync(http + "/api/apply", ["--data-binary", "groups:\n  - name: lab\n    mdoe: ram\n", .. Tools.Bearer(_token)]);
        Assert.Equal(400, s400);
        var problem = AssertProblem(b400, h400, 400, "Bad Request", "mdoe");
        Assert.Equal(3, problem.GetProperty("line").GetInt32());
        Assert.Equal(5, problem.GetProperty("column").GetInt32());

        // Outside /api, refusals stay plain text (iPXE and people with curl read them).
        var (_, plain, plainHeaders) = await Tools.CurlAsync(http + "/boot/zz.ipxe");
        Assert.Contains("content-type: text/plain", plainHeaders, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"title\"", Encoding.UTF8.GetString(plain), StringComparison.Ordinal);
    }

    private static JsonElement AssertProblem(byte[] body, string headers, int status, string title, string detailPart)
    {
        Assert.Contains("content-type: application/problem+json", headers, StringComparison.OrdinalIgnoreCase);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal("about:blank", problem.GetProperty("type").GetString());
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detailPart, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        return problem;
    }

    private static System.Collections.Immutable.ImmutableSortedDictionary<string, string> ImmutableTags(string key, string value) =>
        System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal).Add(key, value);

    /// <summary>
    /// Checks a JSON value against an OpenAPI 3.0 schema of the document: $ref, type (with nullable), enum, required
    /// properties, property and item schemas, additionalProperties. Answers the problems found, with their JSON path.
    /// </summary>
    private sealed class SchemaCheck(JsonElement document)
    {
        public List<string> Check(JsonElement schema, JsonElement value, string path)
        {
            var problems = new List<string>();
            Walk(schema, value, path, problems);
            return problems;
        }

        private void Walk(JsonElement schema, JsonElement value, string path, List<string> problems)
        {
            if (schema.TryGetProperty("$ref", out var reference))
            {
                schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
            }

            if (value.ValueKind == JsonValueKind.Null)
            {
                if (!(schema.TryGetProperty("nullable", out var n) && n.GetBoolean()))
                {
                    problems.Add($"{path}: null where the schema does not allow it");
                }

                return;
            }

            if (schema.TryGetProperty("enum", out var choices) && !choices.EnumerateArray().Any(c => c.ValueKind == value.ValueKind && c.ToString() == value.ToString()))
            {
                problems.Add($"{path}: '{value}' is not one of {choices}");
            }

            var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
            var ok = type switch
            {
                "object" => value.ValueKind == JsonValueKind.Object,
                "array" => value.ValueKind == JsonValueKind.Array,
                "string" => value.ValueKind == JsonValueKind.String,
                "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
                "number" => value.ValueKind == JsonValueKind.Number,
                "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                _ => true,
            };
            if (!ok)
            {
                problems.Add($"{path}: {value.ValueKind} where the schema says {type}");
                return;
            }

            if (type == "array" && schema.TryGetProperty("items", out var items))
            {
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Walk(items, item, $"{path}[{i++}]", problems);
                }
            }

            if (type != "object")
            {
                return;
            }

            if (schema.TryGetProperty("required", out var required))
            {
                foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(r => !value.TryGetProperty(r, out _)))
                {
                    problems.Add($"{path}: required '{name}' is missing");
                }
            }

            var properties = schema.TryGetProperty("properties", out var p) ? p : default;
            foreach (var member in value.EnumerateObject())
            {
                if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(member.Name, out var memberSchema))
                {
                    Walk(memberSchema, member.Value, $"{path}.{member.Name}", problems);
                }
                else if (schema.TryGetProperty("additionalProperties", out var extra) && extra.ValueKind == JsonValueKind.Object)
                {
                    Walk(extra, member.Value, $"{path}.{member.Name}", problems);
                }
                else if (properties.ValueKind == JsonValueKind.Object && !schema.TryGetProperty("additionalProperties", out _))
                {
                    problems.Add($"{path}: '{member.Name}' is not in the schema");
                }
            }
        }
    }
}
