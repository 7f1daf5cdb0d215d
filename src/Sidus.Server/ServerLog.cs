namespace Sidus.Server;

/// <summary>Every decision the server logs, worded in one place.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(100, LogLevel.Information, "Inventory reloaded: {Nodes} nodes, {Groups} groups (version {Version})")]
    public static partial void InventoryReloaded(ILogger logger, int nodes, int groups, long version);

    [LoggerMessage(101, LogLevel.Warning, "Inventory reload failed, keeping version {Version}: {Reason}")]
    public static partial void InventoryReloadFailed(ILogger logger, long version, string reason);

    [LoggerMessage(110, LogLevel.Information, "Script for {Mac} from {Client}: node {Node}, {Decision}")]
    public static partial void ScriptServed(ILogger logger, string mac, IPAddress? client, string node, string decision);

    [LoggerMessage(111, LogLevel.Warning, "Script for {Mac} from {Client}: {Decision}")]
    public static partial void ScriptRefused(ILogger logger, string mac, IPAddress? client, string decision);

    [LoggerMessage(112, LogLevel.Warning, "Refused {Method} {Path} from {Client}: {Reason}")]
    public static partial void RequestRefused(ILogger logger, string method, string path, IPAddress? client, string reason);

    [LoggerMessage(120, LogLevel.Information, "Serving {File} of version {Version} to {Client} ({Node}): {Bytes} of {Size} bytes{Range}")]
    public static partial void FileServed(ILogger logger, string file, string version, IPAddress? client, string node, long bytes, long size, string range);

    [LoggerMessage(121, LogLevel.Warning, "Could not serve {File} of version {Version} to {Client}: {Reason}")]
    public static partial void FileFailed(ILogger logger, string file, string version, IPAddress? client, string reason);

    [LoggerMessage(130, LogLevel.Information, "Boot event from {Mac}: {Stage} {Detail}")]
    public static partial void BootEventReceived(ILogger logger, string mac, string stage, string? detail);

    [LoggerMessage(131, LogLevel.Warning, "Boot events are arriving faster than they can be stored: dropped one from {Mac} ({Stage})")]
    public static partial void BootEventDropped(ILogger logger, string mac, string stage);

    [LoggerMessage(132, LogLevel.Warning, "Could not store a boot event from {Mac}: {Reason}")]
    public static partial void BootEventFailed(ILogger logger, string mac, string reason);

    [LoggerMessage(138, LogLevel.Warning, "Discovered machine {Mac} on network {Network} not registered: {Limit} ({Count} more refused since the last such line)")]
    public static partial void DiscoveryLimitReached(ILogger logger, string mac, string? network, string limit, long count);

    [LoggerMessage(139, LogLevel.Warning, "DHCP on {Interface}: machines that are no node ask to boot faster than {PerMinute} a minute: {Count} boot(s) not recorded or registered in the last minute")]
    public static partial void UnknownBootsUnrecorded(ILogger logger, string @interface, int perMinute, long count);

    [LoggerMessage(133, LogLevel.Warning, "Boot events from machines that are no node are not stored: {Count} in the last {Seconds} s, the last from {Mac}")]
    public static partial void BootEventsOfNoNode(ILogger logger, int count, int seconds, string mac);

    [LoggerMessage(134, LogLevel.Information, "Boot events trimmed: {Count} older than {Days} days or beyond the newest {Total}")]
    public static partial void BootEventsTrimmed(ILogger logger, int count, double days, int total);

    [LoggerMessage(140, LogLevel.Information, "iPXE binaries from {Directory}: {Names}")]
    public static partial void IpxeBinaries(ILogger logger, string directory, string names);

    [LoggerMessage(141, LogLevel.Warning, "No iPXE binaries found in {Directory}: install Debian's ipxe package or set [tftp] ipxe-directory")]
    public static partial void IpxeBinariesMissing(ILogger logger, string directory);

    [LoggerMessage(150, LogLevel.Information, "HTTP listening on {Endpoint}")]
    public static partial void HttpListening(ILogger logger, string endpoint);

    [LoggerMessage(151, LogLevel.Information, "Sidus server stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(160, LogLevel.Warning, "{Service} stopped with an error: {Reason}")]
    public static partial void ServiceFailed(ILogger logger, string service, string reason);

    [LoggerMessage(180, LogLevel.Information, "Served {What} to {Client}: {Bytes} bytes")]
    public static partial void ServingSent(ILogger logger, string what, System.Net.IPAddress? client, long bytes);

    [LoggerMessage(181, LogLevel.Warning, "Serving {What} to {Client} failed: {Reason}")]
    public static partial void ServingFailed(ILogger logger, string what, System.Net.IPAddress? client, string reason);

    [LoggerMessage(197, LogLevel.Information, "Boot files prepared ahead of boots: {Versions} version(s) used by ram and shared nodes, in {Seconds:F1} s")]
    public static partial void BootFilesWarmed(ILogger logger, int versions, double seconds);

    [LoggerMessage(200, LogLevel.Information, "Overrides of {Node} to {Client}: {Entries} entries, {Bytes} bytes ({Reason})")]
    public static partial void OverridesServed(ILogger logger, string node, string client, int entries, int bytes, string reason);

    [LoggerMessage(201, LogLevel.Warning, "Overrides of {Node} refused to {Client}: {Reason}")]
    public static partial void OverridesRefused(ILogger logger, string node, string client, string reason);

    [LoggerMessage(202, LogLevel.Error, "Overrides of {Node} cannot be made: {Reason}")]
    public static partial void OverridesFailed(ILogger logger, string node, string reason);

    [LoggerMessage(210, LogLevel.Information, "Configuration reloaded from {Source}: {Changes}")]
    public static partial void Reloaded(ILogger logger, string source, string changes);

    [LoggerMessage(211, LogLevel.Warning, "Configuration changes that need a restart (systemctl restart sidus), running values kept: {Changes}")]
    public static partial void ReloadNeedsRestart(ILogger logger, string changes);

    [LoggerMessage(212, LogLevel.Error, "Configuration reload refused, the running configuration is kept: {Reason}")]
    public static partial void ReloadRefused(ILogger logger, string reason);

    [LoggerMessage(213, LogLevel.Information, "Reload asked (SIGHUP)")]
    public static partial void ReloadAsked(ILogger logger);

    [LoggerMessage(214, LogLevel.Warning, "SIGHUP is ignored by this process (started by nohup, or by a shell as a background job): `kill -HUP` will not reload sidus.toml and the inventory; restart the server to apply changes, or run it as a service (sidus service install)")]
    public static partial void HangupIgnored(ILogger logger);

    [LoggerMessage(220, LogLevel.Information, "Service manager notified at {Socket}: {Status}")]
    public static partial void ServiceReady(ILogger logger, string socket, string status);

    [LoggerMessage(221, LogLevel.Information, "Watchdog: pinging every {Seconds:F1} s (timeout {Timeout:F1} s)")]
    public static partial void WatchdogEnabled(ILogger logger, double seconds, double timeout);

    [LoggerMessage(222, LogLevel.Error, "Watchdog pings stopped, the server is unhealthy: {Reason}")]
    public static partial void WatchdogStopped(ILogger logger, string reason);

    [LoggerMessage(223, LogLevel.Information, "Stopping: every listener closes, running transfers get up to {Seconds} s")]
    public static partial void Stopping(ILogger logger, double seconds);

    [LoggerMessage(224, LogLevel.Critical, "{Failure}: the server stops (a service manager restarts it)")]
    public static partial void ListenerDied(ILogger logger, string failure);

    [LoggerMessage(330, LogLevel.Warning, "Admin request {Method} {Path} from {Client} refused: {Reason}")]
    public static partial void AdminRefused(ILogger logger, string method, string path, IPAddress? client, string reason);

    [LoggerMessage(331, LogLevel.Information, "Inventory changed over HTTP by token {Token} from {Client}: {Summary}")]
    public static partial void AdminApplied(ILogger logger, string token, IPAddress? client, string summary);

    [LoggerMessage(333, LogLevel.Warning, "Could not record the use of admin token {Token}: {Reason}")]
    public static partial void AdminTokenUseNotRecorded(ILogger logger, string token, string reason);

    [LoggerMessage(332, LogLevel.Warning, "{Change}")]
    public static partial void HomeSecured(ILogger logger, string change);
    [LoggerMessage(260, LogLevel.Information, "Connections: at most {Capacity} at once (file-descriptor limit {Descriptors}), {Http} HTTP and {Nbd} NBD per address")]
    public static partial void ConnectionLimits(ILogger logger, int capacity, ulong descriptors, int http, int nbd);

    [LoggerMessage(261, LogLevel.Critical, "{Service} failed: {Reason}")]
    public static partial void BackgroundServiceDied(ILogger logger, string service, string reason);

    [LoggerMessage(270, LogLevel.Warning, "Node credential refused to {Client} for {What}: {Reason}")]
    public static partial void CredentialRefused(ILogger logger, string client, string what, string reason);

    [LoggerMessage(271, LogLevel.Information, "Boot ticket claimed: {Reason}")]
    public static partial void CredentialClaimed(ILogger logger, string reason);

    [LoggerMessage(272, LogLevel.Error, "ALARM {Subject}: {Alarm}")]
    public static partial void CredentialAlarm(ILogger logger, string subject, string alarm);

    [LoggerMessage(480, LogLevel.Warning, "Override folder {Warning}")]
    public static partial void OverrideFolderUnmatched(ILogger logger, string warning);

    [LoggerMessage(481, LogLevel.Information, "Overrides of {Node} applied again on the running node: {Result}")]
    public static partial void OverridesReapplied(ILogger logger, string node, string result);

    [LoggerMessage(490, LogLevel.Information, "Install of {Node}: {What}")]
    public static partial void InstallStep(ILogger logger, string node, string what);

    [LoggerMessage(491, LogLevel.Warning, "Install of {Node} refused: {Reason}")]
    public static partial void InstallRefused(ILogger logger, string node, string reason);

    [LoggerMessage(520, LogLevel.Information, "Capture of {Node}'s overlay: {What}")]
    public static partial void NodeCaptured(ILogger logger, string node, string what);

    [LoggerMessage(521, LogLevel.Warning, "Capture of {Node}'s overlay refused: {Reason}")]
    public static partial void NodeCaptureRefused(ILogger logger, string node, string reason);
}
