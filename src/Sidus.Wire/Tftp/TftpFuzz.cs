namespace Sidus.Wire.Tftp;

/// <summary>
/// Fuzz target: feeds arbitrary bytes through every decoder and, for a request, through path normalisation and
/// option negotiation, exactly as the server would. Any exception escaping is a bug.
/// </summary>
public static class TftpFuzz
{
    private static readonly TftpServerOptions Limits = new() { RootDirectory = "/nonexistent" };
    private static readonly TftpPathOptions StrictPaths = new();
    private static readonly TftpPathOptions LenientPaths = new() { AllowRootedPaths = true, StripTrailingFF = true };

    public static void Run(ReadOnlySpan<byte> data)
    {
        TftpDecoder.TryReadOpcode(data, out _);
        TftpDecoder.TryDecodeAck(data, out _);
        TftpDecoder.TryDecodeData(data, out _, out _);
        TftpDecoder.TryDecodeError(data, out _, out _);
        TftpDecoder.TryDecodeOptionAck(data, out _);
        if (TftpDecoder.TryDecodeRequest(data, out var request, out _) != TftpDecodeStatus.Done || request is null)
        {
            return;
        }

        TftpPath.TryNormalize(request.FileName, StrictPaths, out _, out _);
        TftpPath.TryNormalize(request.FileName, LenientPaths, out _, out _);
        var parameters = TftpNegotiation.Negotiate(request.Options, data.Length, Limits);
        if (parameters.OptionAck.Length > 0)
        {
            Span<byte> oack = stackalloc byte[TftpLimits.MaxRequestLength];
            var n = TftpEncoder.WriteOptionAck(oack, parameters.OptionAck);
            TftpDecoder.TryDecodeOptionAck(oack[..n], out _);
        }
    }
}
