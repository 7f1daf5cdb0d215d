using System.Globalization;
using System.Security.Cryptography;

namespace Sidus.Wire.Tests.Tftp.Support;

/// <summary>The real TFTP clients the tests drive (Debian packages tftp-hpa, atftp, curl).</summary>
public static class TftpClients
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    public enum Kind
    {
        /// <summary>tftp-hpa: plain RFC 1350, no options, 512-byte lock-step.</summary>
        TftpHpa,
        /// <summary>atftp with blksize 1468 and tsize.</summary>
        AtftpBlksize,
        /// <summary>atftp with blksize 1468, windowsize 16 and tsize.</summary>
        AtftpWindow,
        /// <summary>atftp with the default 512-byte blocks and windowsize 16 (many windows across a block rollover).</summary>
        AtftpWindow512,
        /// <summary>curl with --tftp-blksize 1468.</summary>
        CurlBlksize,
        /// <summary>curl with its default 512-byte blocks.</summary>
        Curl,
    }

    public static Task<ExternalProcess.Result> GetAsync(Kind kind, int port, string remote, string local, TimeSpan? timeout = null)
    {
        var p = port.ToString(CultureInfo.InvariantCulture);
        var (program, arguments) = kind switch
        {
            Kind.TftpHpa => ("tftp", new[] { "-m", "binary", "127.0.0.1", p, "-c", "get", remote, local }),
            Kind.AtftpBlksize => ("atftp", new[] { "--get", "-r", remote, "-l", local, "--option", "blksize 1468", "--option", "tsize 0", "127.0.0.1", p }),
            Kind.AtftpWindow => ("atftp", new[] { "--get", "-r", remote, "-l", local, "--option", "blksize 1468", "--option", "windowsize 16", "--option", "tsize 0", "127.0.0.1", p }),
            Kind.AtftpWindow512 => ("atftp", new[] { "--get", "-r", remote, "-l", local, "--option", "windowsize 16", "127.0.0.1", p }),
            Kind.CurlBlksize => ("curl", new[] { "-sS", "--fail", "-o", local, "--tftp-blksize", "1468", $"tftp://127.0.0.1:{p}/{remote}" }),
            Kind.Curl => ("curl", new[] { "-sS", "--fail", "-o", local, $"tftp://127.0.0.1:{p}/{remote}" }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        return ExternalProcess.RunAsync(program, arguments, timeout ?? DefaultTimeout);
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    public static string Sha256Of(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
