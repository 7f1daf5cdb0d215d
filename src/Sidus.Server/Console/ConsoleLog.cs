namespace Sidus.Server;

/// <summary>What the web console logs (ids 440-459), beside the rest of <see cref="ServerLog"/>.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(440, LogLevel.Information, "Console: token {Token} signed in from {Client}")]
    public static partial void ConsoleSignedIn(ILogger logger, string token, IPAddress? client);

    [LoggerMessage(441, LogLevel.Warning, "Console: sign-in from {Client} refused: {Reason}")]
    public static partial void ConsoleSignInRefused(ILogger logger, IPAddress? client, string reason);

    [LoggerMessage(442, LogLevel.Information, "Console: token {Token} signed out from {Client}")]
    public static partial void ConsoleSignedOut(ILogger logger, string token, IPAddress? client);

    [LoggerMessage(443, LogLevel.Warning, "Console: {Method} {Path} from {Client} refused: {Reason}")]
    public static partial void ConsoleCrossOriginRefused(ILogger logger, string method, string path, IPAddress? client, string reason);

    [LoggerMessage(444, LogLevel.Warning, "Console: live view refused to {Client}: {Watchers} watchers already")]
    public static partial void ConsoleTooManyWatchers(ILogger logger, IPAddress? client, int watchers);

    [LoggerMessage(445, LogLevel.Warning, "Console: page {Path} failed: {Reason}")]
    public static partial void ConsolePageFailed(ILogger logger, string path, string reason);
}
