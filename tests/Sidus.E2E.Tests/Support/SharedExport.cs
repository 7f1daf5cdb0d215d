using Sidus.Store.Export;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// The fixture version's EROFS export, made once with the store's exporter (as `sidus serve` does for shared nodes)
/// and cached beside the fixture's home. Built under a unique name and renamed into place: a version never changes,
/// so a cached export is never stale, and concurrent test runs never see a partial file.
/// </summary>
internal static class SharedExport
{
    private static readonly Lock Gate = new();

    public static string Get(BootImageFixture fixture)
    {
        lock (Gate)
        {
            var directory = Path.Combine(Path.GetDirectoryName(fixture.Home)!, "exports-v1");
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, fixture.Version + ".erofs");
            if (File.Exists(path))
            {
                return path;
            }

            var temporary = Path.Combine(directory, $"{fixture.Version}.{Environment.ProcessId}.{Guid.NewGuid():N}.erofs");
            try
            {
                Tool.Require("mkfs.erofs", "erofs-utils");
                new FilesystemImageExporter(fixture.Repository).ExportErofs(fixture.Version, temporary, null, CancellationToken.None);
                if (!File.Exists(path))
                {
                    File.Move(temporary, path);
                }
            }
            finally
            {
                File.Delete(temporary);
            }

            return path;
        }
    }
}
