namespace Sidus.Wire.Dhcp;

/// <summary>What to do with a machine the node source does not know.</summary>
public enum UnknownClientPolicy
{
    Ignore = 0,
    /// <summary>Answer with the server's defaults and report the machine through <see cref="IDhcpNodeSource.Discovered"/>.</summary>
    AnswerWithDefaults = 1,
}
