namespace Sidus.Artifacts;

/// <summary>What building and finding a version's artifacts logs, worded in one place (event ids as the server had them).</summary>
internal static partial class ArtifactsLog
{
    [LoggerMessage(170, LogLevel.Information, "Image store reopened: {Reason}")]
    public static partial void StoreReopened(ILogger logger, string reason);

    [LoggerMessage(182, LogLevel.Information, "Sidus initramfs of {Version}: {Path} (kernel {Release}, {Modules} modules, {Source})")]
    public static partial void InitramfsReady(ILogger logger, string version, string path, string release, int modules, string source);

    [LoggerMessage(183, LogLevel.Warning, "Sidus initramfs of {Version} cannot be made: {Reason}")]
    public static partial void InitramfsFailed(ILogger logger, string version, string reason);

    [LoggerMessage(184, LogLevel.Information, "Removed {Path} from the boot cache ({Bytes} bytes): {Reason}")]
    public static partial void BootCacheRemoved(ILogger logger, string path, long bytes, string reason);

    [LoggerMessage(185, LogLevel.Information, "Boot cache pruned: {Files} file(s) removed, {Bytes} bytes freed, {Kept} kept")]
    public static partial void BootCachePruned(ILogger logger, int files, long bytes, int kept);

    [LoggerMessage(190, LogLevel.Information, "Building the erofs export of {Version} at {Path}")]
    public static partial void ExportBuilding(ILogger logger, string version, string path);

    [LoggerMessage(191, LogLevel.Information, "Erofs export of {Version} built in {Seconds:F1} s: {Bytes} bytes at {Path}")]
    public static partial void ExportBuilt(ILogger logger, string version, string path, long bytes, double seconds);

    [LoggerMessage(192, LogLevel.Warning, "Erofs export of {Version} cannot be made: {Reason}")]
    public static partial void ExportFailed(ILogger logger, string version, string reason);

    [LoggerMessage(193, LogLevel.Information, "Removed the erofs export of {Version} ({Bytes} bytes, {Path}): the version is gone from the store and no node has it open")]
    public static partial void ExportRemoved(ILogger logger, string version, string path, long bytes);

    [LoggerMessage(194, LogLevel.Information, "Erofs export of {Version} ready for shared-mode nodes: {Bytes} bytes ({Source})")]
    public static partial void ExportReady(ILogger logger, string version, long bytes, string source);

    [LoggerMessage(195, LogLevel.Information, "dm-verity tree of the {Version} export: {DataBytes} bytes of erofs hashed in {Seconds:F1} s, tree {TreeBytes} bytes, sidus.verity={Argument}")]
    public static partial void ExportVerity(ILogger logger, string version, long dataBytes, long treeBytes, double seconds, string argument);

    [LoggerMessage(196, LogLevel.Warning, "Erofs export of {Version} is built again: its dm-verity record {Path} is unusable ({Reason})")]
    public static partial void ExportVerityInvalid(ILogger logger, string version, string path, string reason);

    [LoggerMessage(198, LogLevel.Information, "Preparing the boot files of {Version}: {What}")]
    public static partial void Preparing(ILogger logger, string version, string what);
}
