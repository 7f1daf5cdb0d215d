using System.Text.RegularExpressions;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A copy of an EROFS export with its dm-verity hash tree appended, made by veritysetup (cryptsetup-bin: the peer,
/// not Sidus's own tree builder) in the layout the agent expects: the data blocks, then the tree on the same file,
/// no superblock, format 1, SHA-256, 4096-byte blocks. <see cref="Argument"/> is the sidus.verity value for it.
/// </summary>
internal sealed partial class VerityExport
{
    private const int BlockSize = 4096;
    public const string Salt = "5a1d05";

    public VerityExport(string erofs, string directory)
    {
        var veritysetup = Tool.Require("veritysetup", "cryptsetup-bin");
        Path = System.IO.Path.Combine(directory, "export-verity.img");
        File.Copy(erofs, Path, overwrite: true);
        long dataBytes;
        using (var file = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite))
        {
            dataBytes = (file.Length + BlockSize - 1) / BlockSize * BlockSize;
            file.SetLength(dataBytes);
        }

        DataBlocks = dataBytes / BlockSize;
        var output = Tool.Run(TimeSpan.FromMinutes(5), veritysetup, "format", "--no-superblock", "--format=1", "--hash=sha256",
            "--data-block-size=4096", "--hash-block-size=4096", $"--data-blocks={DataBlocks}", $"--hash-offset={dataBytes}",
            $"--salt={Salt}", Path, Path);
        RootHash = RootHashLine().Match(output) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("veritysetup printed no root hash:\n" + output);
    }

    public string Path { get; }
    public long DataBlocks { get; }
    public string RootHash { get; }
    public string Argument => $"sidus.verity={RootHash}:{Salt}:{DataBlocks}";

    /// <summary>The data block holding the start of the file at PATH in the export, as dump.erofs (erofs-utils: the
    /// peer) maps it; the file must be stored uncompressed (the exporter's default).</summary>
    public static long FirstBlockOf(string erofs, string path)
    {
        var dump = Tool.Run(Tool.Require("dump.erofs", "erofs-utils"), "-e", "--path=" + path, erofs);
        return FirstExtent().Match(dump) is { Success: true } m
            ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) / BlockSize
            : throw new InvalidOperationException($"dump.erofs shows no extent for {path}:\n{dump}");
    }

    /// <summary>Flips one byte of data block BLOCK (the tree is left as it was, so the block no longer matches it).</summary>
    public void Corrupt(long block, int offset)
    {
        using var file = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = block * BlockSize + offset;
        var b = file.ReadByte();
        file.Position = block * BlockSize + offset;
        file.WriteByte((byte)(b ^ 0xFF));
    }

    /// <summary>Extent 0 of "dump.erofs -e": "0:  0..  32768 |  32768 :  235532288.. 235565056 |  32768".</summary>
    [GeneratedRegex(@"^\s*0:\s+0\.\.\s*\d+\s*\|\s*\d+\s*:\s*(\d+)\.\.", RegexOptions.Multiline)]
    private static partial Regex FirstExtent();

    [GeneratedRegex(@"Root hash:\s+([0-9a-f]{64})")]
    private static partial Regex RootHashLine();
}
