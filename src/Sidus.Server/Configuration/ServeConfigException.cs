namespace Sidus.Server.Configuration;

/// <summary>A configuration or startup problem the operator must fix; the message says what and how.</summary>
public sealed class ServeConfigException : Exception
{
    public ServeConfigException()
    {
    }

    public ServeConfigException(string message)
        : base(message)
    {
    }

    public ServeConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
