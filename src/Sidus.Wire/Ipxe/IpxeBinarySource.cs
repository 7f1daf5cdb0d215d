using System.Collections.Frozen;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Ipxe;

/// <summary>
/// Serves the iPXE binaries of Debian's <c>ipxe</c> package over TFTP under their well-known names. The names are a
/// fixed list mapped to files under the package's install directory, so only these files can ever be reached, and
/// the TFTP root directory (which never follows links) needs no copies or symlinks of them.
/// </summary>
public sealed class IpxeBinarySource : ITftpFileSource
{
    /// <summary>Where Debian's <c>ipxe</c> package installs its binaries.</summary>
    public const string DebianDirectory = "/usr/lib/ipxe";

    /// <summary>Read-ahead per open binary: the files are small (under 1 MiB) and read front to back once.</summary>
    private const int ReadBufferSize = 32 * 1024;

    /// <summary>
    /// The names PXE ROMs are sent to (DHCP option 67), relative to the package directory. BIOS: undionly.kpxe
    /// (undionly.kkpxe keeps the PXE stack loaded, ipxe.pxe carries its own drivers); UEFI: snponly.efi uses the
    /// firmware's network driver, ipxe.efi its own; ipxe.lkrn is the Linux-kernel-format build for chainloaders.
    /// </summary>
    public static readonly IReadOnlyList<string> WellKnownNames =
    [
        "undionly.kpxe", "undionly.kkpxe", "ipxe.pxe", "ipxe.efi", "snponly.efi", "ipxe.lkrn",
        "i386-efi/ipxe.efi", "arm64-efi/snp.efi", "arm64-efi/ipxe.efi", "arm64-efi/snponly.efi",
    ];

    private readonly FrozenDictionary<string, string> _files;

    /// <summary>Looks up which well-known binaries exist under <paramref name="directory"/> (once, at startup).</summary>
    public IpxeBinarySource(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        _files = WellKnownNames
            .Select(name => (name, path: Path.Combine(directory, name)))
            .Where(f => File.Exists(f.path))
            .ToFrozenDictionary(f => f.name, f => f.path, StringComparer.Ordinal);
    }

    public string Directory { get; }

    /// <summary>The well-known names found, mapped to their files.</summary>
    public IReadOnlyDictionary<string, string> Files => _files;

    public ValueTask<TftpOpenResult> OpenAsync(TftpFileRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_files.TryGetValue(request.Path, out var path))
        {
            return ValueTask.FromResult(TftpOpenResult.NotFound);
        }

        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, ReadBufferSize);
            return ValueTask.FromResult(TftpOpenResult.Found(new TftpFile(stream, stream.Length)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed or made unreadable since startup (a package upgrade in progress): refuse this one request.
            return ValueTask.FromResult(TftpOpenResult.Refuse($"{path}: {e.Message}"));
        }
    }
}
