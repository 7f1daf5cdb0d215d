namespace Sidus.Wire.Tftp;

/// <summary>One option as it travels in a request or an OACK: a name and a value, both ASCII.</summary>
public readonly record struct TftpOption(string Name, string Value);
