using Sidus.Nodes.Storage;

namespace Sidus.Nodes.Tests;

/// <summary>A fresh SQLite inventory file in its own temporary directory, removed afterwards.</summary>
public sealed class TempInventory : IAsyncDisposable
{
    private TempInventory(string dir, InventoryStore store)
    {
        Directory = dir;
        Store = store;
    }

    public string Directory { get; }

    public string DbPath => Path.Combine(Directory, InventoryStore.DefaultFileName);

    public InventoryStore Store { get; }

    public static async Task<TempInventory> CreateAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sidus-inv-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(dir);
        var store = await InventoryStore.OpenAsync(Path.Combine(dir, InventoryStore.DefaultFileName));
        return new TempInventory(dir, store);
    }

    public Task<InventoryStore> OpenSecondAsync() => InventoryStore.OpenAsync(DbPath);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
