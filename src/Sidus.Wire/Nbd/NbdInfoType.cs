namespace Sidus.Wire.Nbd;

/// <summary>Information items of NBD_OPT_INFO / NBD_OPT_GO (NBD_INFO_*).</summary>
public enum NbdInfoType : ushort
{
    Export = 0,
    Name = 1,
    Description = 2,
    BlockSize = 3,
}
