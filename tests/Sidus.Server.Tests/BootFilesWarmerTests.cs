using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Sidus.Artifacts;
using Sidus.Artifacts.Exports;
using Sidus.Artifacts.Versions;
using Sidus.Server.Images;
using Sidus.Server.Inventory;
using Sidus.Store.Objects;

namespace Sidus.Server.Tests;

/// <summary>The boot files of the versions ram and shared nodes boot are made before any node asks for them.</summary>
public sealed class BootFilesWarmerTests(SharedRootFixture f) : IClassFixture<SharedRootFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Fact]
    public void ServerStart_NoBootRequest_ExportWithTreeAndInitramfsReady()
    {
        // No script was asked for in this fixture: the server made them by itself.
        var ready = SpinWait.SpinUntil(() => f.Log.Lines.Any(l => l.Contains("Boot files prepared ahead of boots", StringComparison.Ordinal)), Limit);
        Assert.True(ready, "no warm-up within the limit:\n" + string.Join('\n', f.Log.Lines));
        Assert.True(File.Exists(f.ExportPath));
        Assert.True(File.Exists(Path.ChangeExtension(f.ExportPath, ErofsExports.VerityExtension)));
        Assert.Contains(f.Log.Lines, l => l.Contains("Sidus initramfs of", StringComparison.Ordinal) && !l.Contains("cannot be made", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WarmOnce_ExportRemoved_BuiltAgainOnceThenNothingToDo()
    {
        var services = f.Server.Services;
        // The server's own warm-up over (not only its files in place): a build still finishing would hand its result,
        // the files removed below, to the warmer made here.
        SpinWait.SpinUntil(() => f.Log.Lines.Any(l => l.Contains("Boot files prepared ahead of boots", StringComparison.Ordinal)), Limit);
        File.Delete(f.ExportPath);
        File.Delete(Path.ChangeExtension(f.ExportPath, ErofsExports.VerityExtension));

        var warmer = new BootFilesWarmer(services.GetRequiredService<InventoryView>(), services.GetRequiredService<ImageCatalog>(),
            services.GetRequiredService<VersionArtifacts>(), NullLogger<BootFilesWarmer>.Instance);
        Assert.Equal([ObjectId.Parse(f.VersionId)], await warmer.WarmOnceAsync(CancellationToken.None));
        Assert.True(File.Exists(f.ExportPath));
        Assert.True(File.Exists(Path.ChangeExtension(f.ExportPath, ErofsExports.VerityExtension)));
        Assert.Empty(await warmer.WarmOnceAsync(CancellationToken.None));
    }
}
