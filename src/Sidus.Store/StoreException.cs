using Sidus.Store.Objects;

namespace Sidus.Store;

/// <summary>What went wrong, in words a user can act on, with the exit code the CLI should return.</summary>
public class StoreException : IOException
{
    public StoreException(string message, int exitCode = ExitCodes.Failure) : base(message) => ExitCode = exitCode;

    public StoreException(string message, Exception inner, int exitCode = ExitCodes.Failure) : base(message, inner) => ExitCode = exitCode;

    public int ExitCode { get; }
}

/// <summary>Exit codes every sidus verb uses (documented in docs/cli.md).</summary>
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
}

/// <summary>Stored data that does not decode or does not match its id.</summary>
public sealed class CorruptObjectException : StoreException
{
    public CorruptObjectException(string message) : base(message, ExitCodes.Corrupt)
    {
    }

    public CorruptObjectException(string message, Exception inner) : base(message, inner, ExitCodes.Corrupt)
    {
    }
}

/// <summary>An object a version needs is not in the store.</summary>
public sealed class MissingObjectException : StoreException
{
    public MissingObjectException(ObjectId id)
        : base($"object {id} is missing from the store (run 'sidus store verify' to see which versions it breaks)", ExitCodes.Corrupt)
    {
        Id = id;
    }

    public ObjectId Id { get; }
}
