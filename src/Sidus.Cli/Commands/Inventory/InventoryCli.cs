using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Store.Refs;

namespace Sidus.Cli.Commands.Inventory;

/// <summary>What the inventory verbs share: the --db option, opening the store, and errors mapped to exit codes.</summary>
public static class InventoryCli
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int NotFound = 2;
    public const int Conflict = 3;

    public static Option<string?> DbOption() => new("--db")
    {
        Description = $"Inventory database: a SQLite file, or a PostgreSQL connection string like \"Host=db;Database=sidus;Username=sidus\" "
            + $"(default: ${InventoryStore.DatabaseVariable}, else sidus.toml's database, else <home>/{InventoryStore.DefaultFileName})",
        HelpName = "FILE|CONNSTR",
        Recursive = true,
    };

    /// <summary>
    /// Where the inventory is: --db, else $SIDUS_DB, else sidus.toml's `database =` (read as `sidus serve` reads it:
    /// <paramref name="config"/>, or the file <see cref="SidusConfig"/> finds), else &lt;home&gt;/inventory.db.
    /// </summary>
    public static string Location(ParseResult r, Option<string?> db, ServeOptions? config = null)
    {
        var given = r.GetValue(db);
        if (!string.IsNullOrWhiteSpace(given))
        {
            return given;
        }

        var env = Environment.GetEnvironmentVariable(InventoryStore.DatabaseVariable);
        return !string.IsNullOrWhiteSpace(env) ? env : (config ?? SidusConfig.Read(r)).InventoryLocation;
    }

    /// <summary>Opens the inventory, runs <paramref name="body"/>, and turns refusals into a message and an exit code.</summary>
    /// <summary>
    /// Says on stderr which override folders reach no node (a group or node that does not exist). Quiet when
    /// sidus.toml cannot be read: the command's own job is done, and `sidus node render` names that error.
    /// </summary>
    public static void WarnAboutOverrideFolders(ParseResult r, Option<string?> db, InventorySnapshot snapshot)
    {
        try
        {
            var locations = Node.NodeRenderCommand.LoadOptions(r, db, null).OverrideLocations;
            foreach (var warning in Sidus.Nodes.Overrides.OverrideFolders.Unmatched(locations, snapshot))
            {
                Console.Error.WriteLine("warning: override folder " + warning);
            }
        }
        catch (Exception e) when (e is Sidus.Server.Configuration.ServeConfigException or IOException or UnauthorizedAccessException)
        {
            // Nothing to warn about that the user can act on here.
        }
    }

    public static async Task<int> RunAsync(ParseResult r, Option<string?> db, CancellationToken ct, Func<InventoryStore, Task<int>> body)
    {
        try
        {
            SecureHome(r, db);
            await using var store = await InventoryStore.OpenAsync(Location(r, db), ct: ct);
            using var images = new LazyImages(GlobalOptions.ResolveHome(r));
            store.Images = images.Problem;
            store.FixedAddressRule = ConfiguredPools.Rule(r, db);
            return await body(store);
        }
        catch (UnauthorizedAccessException e) when (e.InnerException is LinuxException)
        {
            return Error(e.Message, Usage);
        }
        catch (ServeConfigException e)
        {
            return Error(e.Message, Usage);
        }
        catch (InventoryException e)
        {
            return Error(e.Message, e.Kind switch
            {
                InventoryErrorKind.NotFound => NotFound,
                InventoryErrorKind.Conflict => Conflict,
                _ => Usage,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            return Error($"cannot use the inventory at {Location(r, db)}: {e.Message}", Usage);
        }
    }

    /// <summary>When the inventory is the data directory's, that directory is made (or closed to) root's alone first.</summary>
    private static void SecureHome(ParseResult r, Option<string?> db)
    {
        if (string.IsNullOrWhiteSpace(r.GetValue(db)) && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(InventoryStore.DatabaseVariable))
            && HomeAccess.Secure(GlobalOptions.ResolveHome(r)) is { } change)
        {
            Console.Error.WriteLine("sidus: " + change);
        }
    }

    /// <summary>The image store of the data directory, opened only when an edit sets an image: what such a setting must name.</summary>
    private sealed class LazyImages(string home) : IDisposable
    {
        private Repository? _repository;

        public string? Problem(string spec) => ImageReferences.Problem(_repository ??= Repository.Open(home), spec);

        public void Dispose() => _repository?.Dispose();
    }

    /// <summary>The text of the file PATH ("-": standard input), and the name to show in messages ("&lt;stdin&gt;" for
    /// "-"); null, with the reason said, when it cannot be read.</summary>
    public static async Task<(string Text, string Shown)?> ReadInputAsync(string path, CancellationToken ct)
    {
        try
        {
            return path == "-" ? (await Console.In.ReadToEndAsync(ct), "<stdin>") : (await File.ReadAllTextAsync(path, ct), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error($"cannot read {path}: {e.Message}");
            return null;
        }
    }

    public static int Error(string message, int code = Usage)
    {
        CliError.Write(message);
        return code;
    }

    /// <summary>The node named KEY, or the node with that MAC; null when there is none.</summary>
    public static Sidus.Nodes.Node? FindNodeByNameOrMac(InventorySnapshot snapshot, string key) =>
        snapshot.FindNode(key) ?? (MacAddress.TryParse(key, out var mac) ? snapshot.FindByMac(mac) : null);

    public static int NoSuchNode(string key) =>
        Error($"no node is named '{key}' or has that MAC (`sidus node list` shows the nodes)", NotFound);
}
