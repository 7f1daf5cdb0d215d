using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

public class TftpFuzzTests
{
    private static readonly byte[][] Seeds =
    [
        Convert.FromHexString("00017078656c696e75782e30006f6374657400626c6b73697a65003134363800" + "7473697a65003000"),
        Convert.FromHexString("0001612f622f63006e65746173636969007769" + "6e646f7773697a6500313600" + "74696d656f7574003300"),
        Convert.FromHexString("00020066696c65006f6374657400"),
        Convert.FromHexString("00041234"),
        Convert.FromHexString("00030001cafe"),
        Convert.FromHexString("000500016e6f00"),
        Convert.FromHexString("0006626c6b73697a650031343638007473697a650030303000"),
    ];

    /// <summary>
    /// Bounded random mutation (flip, insert, delete, splice, truncate) of valid packets: 50,000 cases with a fixed
    /// seed. The decoders must never throw, and a request they accept must satisfy the invariants the server relies on.
    /// </summary>
    [Fact]
    public void Run_MutatedPackets_NeverThrowAndKeepInvariants()
    {
        var random = new Random(20240607);
        var accepted = 0;
        for (var i = 0; i < 50_000; i++)
        {
            var packet = Mutate(Seeds[random.Next(Seeds.Length)], random);
            TftpFuzz.Run(packet);
            if (TftpDecoder.TryDecodeRequest(packet, out var request, out _) == TftpDecodeStatus.Done)
            {
                accepted++;
                Assert.True(packet.Length <= TftpLimits.MaxRequestLength);
                Assert.NotEmpty(request!.FileName);
                Assert.DoesNotContain(request.FileName, b => b < 0x20 || b == 0x7f);
                Assert.True(request.Options.BlockSize is null or (>= TftpLimits.MinBlockSize and <= TftpLimits.MaxBlockSize));
                Assert.True(request.Options.WindowSize is null or (>= 1 and <= 65535));
                Assert.True(request.Options.TimeoutSeconds is null or (>= 1 and <= 255));
                Assert.True(request.Options.TransferSize is null or >= 0);
                if (TftpPath.TryNormalize(request.FileName, new TftpPathOptions(), out var path, out _))
                {
                    Assert.DoesNotContain("..", path.Split('/'));
                    Assert.False(path.StartsWith('/'));
                }
            }
        }

        // The mutations must leave some valid requests, or the invariants above were never exercised.
        Assert.True(accepted > 1000, $"only {accepted} mutated requests decoded");
    }

    [Fact]
    public void Run_RandomBytes_NeverThrow()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var packet = new byte[random.Next(0, 600)];
            random.NextBytes(packet);
            if (packet.Length >= 2 && random.Next(2) == 0)
            {
                packet[0] = 0;
                packet[1] = (byte)random.Next(0, 8);
            }

            TftpFuzz.Run(packet);
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        var steps = random.Next(1, 4);
        for (var s = 0; s < steps; s++)
        {
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.Insert(random.Next(bytes.Count + 1), Interesting(random));
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveAt(random.Next(bytes.Count));
                    break;
                case 3 when bytes.Count > 0:
                    var cut = random.Next(bytes.Count);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    break;
                case 4:
                    var other = Seeds[random.Next(Seeds.Length)];
                    bytes.AddRange(other.AsSpan(random.Next(other.Length)).ToArray());
                    break;
                default:
                    if (bytes.Count > 2)
                    {
                        bytes[random.Next(2, bytes.Count)] = Interesting(random);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    private static byte Interesting(Random random) =>
        "\0/\\.9 0abBK\xff\x7f\x01"[random.Next(14)] is var c ? (byte)c : (byte)0;
}
