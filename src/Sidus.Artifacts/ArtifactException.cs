namespace Sidus.Artifacts;

/// <summary>An artifact of a version cannot be made; the message says why, in words a node's operator can act on.</summary>
public sealed class ArtifactException : Exception
{
    public ArtifactException(string message)
        : base(message)
    {
    }

    public ArtifactException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
