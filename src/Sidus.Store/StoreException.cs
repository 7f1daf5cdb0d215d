namespace Sidus.Store;

/// <summary>What kind of failure a <see cref="StoreException"/> is, for callers that answer differently (the CLI's
/// exit code, an HTTP status); the store itself says nothing about how its callers report it.</summary>
public enum StoreErrorKind
{
    /// <summary>Failed for a reason the message explains.</summary>
    Failure,

    /// <summary>The request itself is wrong (a bad name, a directory where a file was expected).</summary>
    Usage,

    /// <summary>The image, version, tag or file asked for does not exist.</summary>
    NotFound,

    /// <summary>It would overwrite or contradict what exists (a tag already set elsewhere).</summary>
    Conflict,

    /// <summary>Another writer holds the store.</summary>
    Busy,

    /// <summary>Stored data does not decode or does not match its id.</summary>
    Corrupt,
}

/// <summary>What went wrong, in words a user can act on, and what kind of failure it is.</summary>
public class StoreException : IOException
{
    public StoreException(string message, StoreErrorKind kind = StoreErrorKind.Failure) : base(message) => Kind = kind;

    public StoreException(string message, Exception inner, StoreErrorKind kind = StoreErrorKind.Failure) : base(message, inner) => Kind = kind;

    public StoreErrorKind Kind { get; }
}

/// <summary>Stored data that does not decode or does not match its id.</summary>
public sealed class CorruptObjectException : StoreException
{
    public CorruptObjectException(string message) : base(message, StoreErrorKind.Corrupt)
    {
    }

    public CorruptObjectException(string message, Exception inner) : base(message, inner, StoreErrorKind.Corrupt)
    {
    }
}

/// <summary>An object a version needs is not in the store.</summary>
public sealed class MissingObjectException : StoreException
{
    public MissingObjectException(ObjectId id)
        : base($"object {id} is missing from the store (run 'sidus store verify' to see which versions it breaks)", StoreErrorKind.Corrupt)
    {
        Id = id;
    }

    public ObjectId Id { get; }
}
