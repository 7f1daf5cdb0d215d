namespace Sidus.Nodes;

/// <summary>What kind of failure an inventory operation met; the CLI maps it to an exit code.</summary>
public enum InventoryErrorKind
{
    /// <summary>The input is malformed or breaks a rule (bad MAC, bad name, kernel args with a newline).</summary>
    Invalid = 1,

    /// <summary>A node, group, network or discovered machine that was named does not exist.</summary>
    NotFound = 2,

    /// <summary>The change collides with the stored state: a MAC or IP owned by another node, a name taken, a stale revision.</summary>
    Conflict = 3,
}

/// <summary>An inventory operation refused; the message says what is wrong and, where it can, what to do.</summary>
public sealed class InventoryException : Exception
{
    public InventoryException(InventoryErrorKind kind, string message)
        : base(message) => Kind = kind;

    public InventoryException(InventoryErrorKind kind, string message, Exception inner)
        : base(message, inner) => Kind = kind;

    public InventoryErrorKind Kind { get; }
}
