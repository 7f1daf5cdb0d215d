namespace Sidus.Wire.Nbd;

/// <summary>The data of NBD_OPT_INFO / NBD_OPT_GO: the export name and the information items asked for.</summary>
public sealed record NbdInfoRequest(string Name, IReadOnlyList<NbdInfoType> Items);
