namespace Sidus.Cli;

/// <summary>Exit codes every sidus verb uses (documented in docs/images.md).</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Failed, or refused bad input (the same code System.CommandLine uses for a bad command line).</summary>
    public const int Failure = 1;
    public const int Usage = 1;
    public const int NotFound = 2;
    public const int Conflict = 3;
    public const int Busy = 4;
    public const int Corrupt = 5;
    public const int Interrupted = 130;

    /// <summary>The exit code for a store failure of KIND.</summary>
    public static int For(StoreErrorKind kind) => kind switch
    {
        StoreErrorKind.Usage => Usage,
        StoreErrorKind.NotFound => NotFound,
        StoreErrorKind.Conflict => Conflict,
        StoreErrorKind.Busy => Busy,
        StoreErrorKind.Corrupt => Corrupt,
        _ => Failure,
    };
}
