namespace Sidus.Nodes.Layouts;

/// <summary>A layout that cannot be used: the message names the file, line and field, and what to write instead.</summary>
public sealed class LayoutException(string message) : Exception(message);
