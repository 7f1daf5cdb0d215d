namespace Sidus.Nodes.Overrides;

/// <summary>An override layer cannot be made: a template error (with file and line), a bad .sidus-meta, a failed key generation.</summary>
public sealed class OverrideException : Exception
{
    public OverrideException()
    {
    }

    public OverrideException(string message)
        : base(message)
    {
    }

    public OverrideException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
