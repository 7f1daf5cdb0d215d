namespace Sidus.Wire.Tftp;

/// <summary>Wire offsets, sizes and value ranges of TFTP packets and options.</summary>
public static class TftpLimits
{
    public const int OpcodeOffset = 0;
    public const int OpcodeLength = 2;
    /// <summary>Offset of the block number in DATA/ACK and of the error code in ERROR.</summary>
    public const int BlockOffset = 2;
    public const int BlockLength = 2;
    public const int HeaderLength = OpcodeLength + BlockLength;

    /// <summary>RFC 2347: a request, options included, must fit in 512 octets.</summary>
    public const int MaxRequestLength = 512;

    /// <summary>Classic RFC 1350 data block size, used when blksize is not negotiated.</summary>
    public const int DefaultBlockSize = 512;
    /// <summary>RFC 2348 blksize range.</summary>
    public const int MinBlockSize = 8;
    public const int MaxBlockSize = 65464;
    /// <summary>1500-byte Ethernet MTU minus IP (20), UDP (8) and TFTP (4) headers: never fragments.</summary>
    public const int EthernetBlockSize = 1468;

    /// <summary>RFC 2349 timeout range, in seconds.</summary>
    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 255;

    /// <summary>RFC 7440 windowsize range.</summary>
    public const int MinWindowSize = 1;
    public const int MaxWindowSize = 65535;

    /// <summary>Largest DATA packet: header plus the largest block.</summary>
    public const int MaxPacketLength = HeaderLength + MaxBlockSize;

    /// <summary>Longest error message we send; ROMs print it, a short line is enough.</summary>
    public const int MaxErrorMessageLength = 200;

    /// <summary>Digits accepted in an option value: more cannot be a valid size and would overflow a long.</summary>
    public const int MaxOptionDigits = 18;

    public const string BlockSizeOption = "blksize";
    public const string TransferSizeOption = "tsize";
    public const string TimeoutOption = "timeout";
    public const string WindowSizeOption = "windowsize";
}
