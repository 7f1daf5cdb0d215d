namespace Sidus.Wire.Nbd;

/// <summary>An option request's header: which option, and how many data bytes follow it.</summary>
public readonly record struct NbdOptionHeader(NbdOption Option, uint Length);
