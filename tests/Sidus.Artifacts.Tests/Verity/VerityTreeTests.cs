using System.Globalization;
using System.Text.RegularExpressions;
using Sidus.Artifacts.Verity;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Artifacts.Tests.Verity;

/// <summary>
/// The hash tree against veritysetup (cryptsetup-bin), the tool whose layout the kernel's dm-verity reads: the same
/// data formatted by veritysetup must give the same tree bytes and root hash, and veritysetup verify must accept our
/// file and reject it once one data byte changes.
/// </summary>
public sealed partial class VerityTreeTests : IDisposable
{
    private static readonly byte[] Salt = Convert.FromHexString("5eed000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d");

    private readonly string _directory = Directory.CreateTempSubdirectory("sidus-verity-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(4096L)]                     // one data block: it is its own root, no hash blocks
    [InlineData(128L * 4096)]               // exactly one leaf hash block
    [InlineData(129L * 4096)]               // two leaf blocks under one top block
    [InlineData(3000L * 4096)]              // two levels, partial last leaf block
    [InlineData(16385L * 4096)]             // three levels
    [InlineData(1000L * 4096 + 123)]        // not a block multiple: zero-padded first
    [InlineData(1L)]
    public void Append_Sizes_SameTreeAndRootAsVeritysetup(long length)
    {
        var ours = Path.Combine(_directory, "ours");
        var theirs = Path.Combine(_directory, "theirs");
        WriteRandom(ours, length, seed: (int)(length % int.MaxValue));
        File.Copy(ours, theirs);

        var info = VerityTree.Append(ours, Salt, CancellationToken.None);

        var dataBlocks = (length + VerityTree.BlockSize - 1) / VerityTree.BlockSize;
        using (var pad = File.OpenHandle(theirs, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(pad, dataBlocks * VerityTree.BlockSize);
        }

        var format = Veritysetup("format", theirs, theirs,
            "--salt=" + Convert.ToHexStringLower(Salt), "--hash-offset=" + (dataBlocks * VerityTree.BlockSize));
        Assert.Equal(0, format.ExitCode);
        Assert.Equal(Field(format.StandardOutput, "Root hash"), Convert.ToHexStringLower(info.RootHash));
        Assert.Equal(Field(format.StandardOutput, "Data blocks"), dataBlocks.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(Field(format.StandardOutput, "Hash blocks"), VerityTree.HashBlocks(dataBlocks).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(dataBlocks, info.DataBlocks);
        Assert.Equal(Salt, info.Salt);

        var oursBytes = File.ReadAllBytes(ours);
        var theirsBytes = File.ReadAllBytes(theirs);
        Assert.Equal((dataBlocks * VerityTree.BlockSize) + info.TreeBytes, oursBytes.LongLength);
        Assert.Equal(theirsBytes.LongLength, oursBytes.LongLength);
        Assert.True(oursBytes.AsSpan().SequenceEqual(theirsBytes), "the data and hash tree differ from veritysetup's");
    }

    [Fact]
    public void Append_VeritysetupVerify_AcceptsThenRejectsOneFlippedByte()
    {
        var file = Path.Combine(_directory, "image");
        WriteRandom(file, (300L * 4096) + 77, seed: 7);
        var info = VerityTree.Append(file, Salt, CancellationToken.None);

        var verify = Verify(file, info);
        Assert.True(verify.Succeeded, verify.ToString());

        using (var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite))
        {
            var one = new byte[1];
            var offset = 123L * VerityTree.BlockSize + 45;
            RandomAccess.Read(handle, one, offset);
            one[0] ^= 0x01;
            RandomAccess.Write(handle, one, offset);
        }

        var tampered = Verify(file, info);
        Assert.NotEqual(0, tampered.ExitCode);
        Assert.Contains("verification", tampered.StandardError + tampered.StandardOutput, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Append_WrongSalt_VeritysetupVerifyRejects()
    {
        var file = Path.Combine(_directory, "image");
        WriteRandom(file, 200L * 4096, seed: 9);
        var info = VerityTree.Append(file, Salt, CancellationToken.None);

        Assert.True(Verify(file, info).Succeeded);
        var verify = Verify(file, info with { Salt = [.. Salt.Reverse()] });
        Assert.NotEqual(0, verify.ExitCode);
        Assert.Contains("verification", verify.StandardError + verify.StandardOutput, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Append_EmptyFile_IOException()
    {
        var file = Path.Combine(_directory, "empty");
        File.WriteAllBytes(file, []);
        Assert.Throws<IOException>(() => VerityTree.Append(file, Salt, CancellationToken.None));
    }

    [Theory]
    [InlineData(1L, "")]
    [InlineData(2L, "1")]
    [InlineData(128L, "1")]
    [InlineData(129L, "2,1")]
    [InlineData(16384L, "128,1")]
    [InlineData(16385L, "129,2,1")]
    public void LevelBlocks_DataBlocks_LeafFirstCounts(long dataBlocks, string expected) =>
        Assert.Equal(expected, string.Join(',', VerityTree.LevelBlocks(dataBlocks)));

    private static CommandResult Verify(string file, VerityInfo info) =>
        Veritysetup("verify", file, file,
            "--data-blocks=" + info.DataBlocks, "--hash-offset=" + (info.DataBlocks * VerityTree.BlockSize),
            Convert.ToHexStringLower(info.RootHash),
            "--salt=" + Convert.ToHexStringLower(info.Salt));

    private static CommandResult Veritysetup(string verb, string data, string hash, params string[] more) =>
        ProcessRunner.Run(Tool.Require("veritysetup", "cryptsetup-bin"),
            [verb, "--no-superblock", "--format=1", "--hash=sha256", "--data-block-size=4096", "--hash-block-size=4096",
             data, hash, .. more],
            TimeSpan.FromMinutes(2));

    private static string Field(string output, string name)
    {
        var match = FieldLine().Matches(output).FirstOrDefault(m => m.Groups[1].Value == name);
        Assert.True(match is not null, $"veritysetup printed no '{name}': {output}");
        return match.Groups[2].Value;
    }

    private static void WriteRandom(string path, long length, int seed)
    {
        var random = new Random(seed);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        var buffer = new byte[1 << 20];
        for (var left = length; left > 0;)
        {
            var n = (int)Math.Min(buffer.Length, left);
            random.NextBytes(buffer.AsSpan(0, n));
            stream.Write(buffer, 0, n);
            left -= n;
        }
    }

    [GeneratedRegex(@"^([A-Za-z ]+):\s+(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex FieldLine();
}
