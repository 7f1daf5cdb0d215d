using Sidus.Nodes.Overrides;
using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node render NAME`: exactly the override layer the node gets, entry by entry, with where each came from.</summary>
public static class NodeRenderCommand
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "Node name, or one of its MAC addresses" };
        var json = GlobalOptions.Json();
        var tar = new Option<string?>("--tar") { Description = "Also write the layer as the ustar archive the node downloads", HelpName = "FILE" };
        var secrets = new Option<bool>("--show-secrets") { Description = "Print SSH private keys (default: their public key's fingerprint only)" };
        var server = new Option<string?>("--server")
        {
            Description = "The server address templates see as server.address (default: the first [[interface]] address of sidus.toml and the HTTP port)",
            HelpName = "HOST:PORT",
        };
        var config = new Option<string?>("--config", "-c") { Description = $"sidus.toml to read [overrides] and DHCP domain/DNS from (default: <home>/sidus.toml, else {ServeConfigFile.SystemPath})", HelpName = "FILE" };
        var cmd = new Command("render", """
            Show exactly what a node gets over its image: every path of its override layer, the level it came from
            (generated, global, group:NAME, node), its mode and owner, and the contents of text files. Levels are
            directory trees beside the inventory: overrides/global, overrides/groups/NAME, overrides/nodes/NAME; a
            later level replaces an earlier one file by file (a node's first group beats its later groups). Files
            named NAME.tmpl are templates: {{ node.name }}, {{ node.ip | default "dhcp" }} (see docs/overrides.md).
            Generated: /etc/hostname, /etc/hosts, /etc/machine-id, SSH host keys (made once per node and kept),
            /etc/resolv.conf (when DHCP's DNS is configured), and the sidus-up unit. The first render of a node
            generates its machine-id and keys, as its first boot would.
            Exit codes: 0 ok, 1 a template or .sidus-meta error (file and line are named), 2 no such node.
            """)
        {
            name, json, tar, secrets, server, config,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            var key = r.GetValue(name)!;
            if (InventoryCli.FindNodeByNameOrMac(snap, key) is not { } node)
            {
                return InventoryCli.NoSuchNode(key);
            }

            var home = GlobalOptions.ResolveHome(r);
            ServeOptions options;
            try
            {
                options = LoadOptions(r, db, r.GetValue(config));
            }
            catch (ServeConfigException e)
            {
                return InventoryCli.Error(e.Message);
            }

            var site = Site(options, node, r.GetValue(server));
            InventoryCli.WarnAboutOverrideFolders(r, db, snap);
            IReadOnlyList<OverrideFile> layer;
            try
            {
                layer = new OverrideRenderer(options.OverrideLocations).Render(new RenderContext(snap, node, Image(home, snap.Resolve(node).Image.Value), site));
            }
            catch (OverrideException e)
            {
                return InventoryCli.Error(e.Message);
            }

            if (r.GetValue(tar) is { } tarPath)
            {
                await using var output = File.Create(tarPath);
                OverrideArchive.Write(layer, output);
            }

            var show = r.GetValue(secrets);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonObject
                {
                    ["node"] = node.Name,
                    ["server"] = site.ServerAddress,
                    ["files"] = new JsonArray([.. layer.Select(f => (JsonNode?)new JsonObject
                    {
                        ["path"] = "/" + f.Path,
                        ["kind"] = f.Kind.ToString().ToLowerInvariant(),
                        ["from"] = f.Origin,
                        ["mode"] = Convert.ToString(f.Mode, 8).PadLeft(4, '0'),
                        ["uid"] = f.Uid,
                        ["gid"] = f.Gid,
                        ["size"] = f.Content.Length,
                        ["target"] = f.LinkTarget,
                        ["text"] = f.Kind == OverrideKind.File ? Shown(f, layer, show) : null,
                        ["fingerprint"] = f.Secret ? Fingerprint(f, layer) : null,
                    })]),
                });
                return InventoryCli.Ok;
            }

            Console.Out.WriteLine($"# node {node.Name}: {layer.Count} entries over image {snap.Resolve(node).Image.Value ?? "(none)"}");
            foreach (var f in layer)
            {
                var head = $"/{f.Path}  [{f.Origin}] {Convert.ToString(f.Mode, 8).PadLeft(4, '0')} {f.Uid}:{f.Gid}";
                switch (f.Kind)
                {
                    case OverrideKind.Directory:
                        Console.Out.WriteLine($"== {head} directory");
                        break;
                    case OverrideKind.Symlink:
                        Console.Out.WriteLine($"== {head} -> {f.LinkTarget}");
                        break;
                    default:
                        Console.Out.WriteLine($"== {head} {f.Content.Length} bytes");
                        var text = Shown(f, layer, show);
                        Console.Out.Write(text is null ? "(binary)\n" : text.EndsWith('\n') ? text : text + "\n");
                        break;
                }
            }

            return InventoryCli.Ok;
        }));
        return cmd;
    }

    /// <summary>sidus.toml as `sidus serve` would read it, for [overrides] and the DHCP domain and DNS.</summary>
    public static ServeOptions LoadOptions(ParseResult r, Option<string?> db, string? config)
    {
        var options = SidusConfig.Read(r, config);
        return options with { Database = InventoryCli.Location(r, db, options) };
    }

    /// <summary>The text to show: the file's own, a fingerprint for a secret, null for binary content.</summary>
    private static string? Shown(OverrideFile f, IReadOnlyList<OverrideFile> layer, bool showSecrets)
    {
        if (f.Secret && !showSecrets)
        {
            return $"(secret: private key of {Fingerprint(f, layer)}; --show-secrets prints it)";
        }

        try
        {
            return StrictUtf8.GetString(f.Content);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>A private key's fingerprint, from its ".pub" partner in the layer.</summary>
    private static string? Fingerprint(OverrideFile f, IReadOnlyList<OverrideFile> layer) =>
        layer.FirstOrDefault(p => p.Path == f.Path + ".pub") is { } pub ? Fingerprints.OfPublicKey(Encoding.ASCII.GetString(pub.Content)) : null;

    internal static ImageInfo? Image(string home, string? spec)
    {
        if (spec is null || !Directory.Exists(home))
        {
            return null;
        }

        try
        {
            using var repository = Repository.Open(home);
            var (id, commit) = repository.Resolve(spec);
            return new ImageInfo($"{commit.Image}@{commit.Sequence.ToString(CultureInfo.InvariantCulture)}", id.ToString());
        }
        catch (StoreException)
        {
            return null;
        }
    }

    internal static SiteInfo Site(ServeOptions options, Sidus.Nodes.Node node, string? server)
    {
        var port = options.Http.Port.ToString(CultureInfo.InvariantCulture);
        var subnet = options.Interfaces.FirstOrDefault(i => node.Ip is { } ip && i.Subnet is { } s && s.Contains(ip))
                     ?? options.Interfaces.FirstOrDefault();
        var address = server ?? (subnet?.Address is { } a ? $"{a}:{port}" : null);
        return new SiteInfo(address, subnet?.Domain, subnet?.Dns ?? (IReadOnlyList<IPAddress>)[]);
    }
}
