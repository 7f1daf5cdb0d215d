using System.Diagnostics;
using System.Text.RegularExpressions;
using Sidus.Artifacts.Initramfs;

namespace Sidus.Artifacts.Tests.Initramfs;

/// <summary>The DT_NEEDED reader against binutils' readelf on real programs, and on cut or damaged files.</summary>
public sealed partial class ElfNeededTests
{
    private static readonly string[] Programs = ["/usr/sbin/mke2fs", "/usr/bin/qemu-img", "/usr/bin/ls", "/usr/bin/readelf"];

    [Fact]
    public void Read_HostPrograms_MatchReadelf()
    {
        var checkedAny = 0;
        foreach (var program in Programs)
        {
            Assert.True(File.Exists(program), program + " is missing (e2fsprogs, qemu-utils, coreutils, binutils in tools/packages/test.txt)");
            Assert.Equal(Readelf(program), ElfNeeded.Read(File.ReadAllBytes(program)));
            checkedAny++;
        }

        Assert.Equal(Programs.Length, checkedAny);
    }

    [Fact]
    public void Read_CutAnywhere_InvalidDataOrShorterList()
    {
        var data = File.ReadAllBytes("/usr/sbin/mke2fs");
        foreach (var length in new[] { 0, 3, 16, 63, 64, 120, 500, 4096, data.Length / 3, data.Length / 2, data.Length - 1 })
        {
            try
            {
                Assert.True(ElfNeeded.Read(data.AsSpan(0, length)).Count <= 6);
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("ELF: ", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Read_HostileProgramHeaderOffset_InvalidData()
    {
        var data = File.ReadAllBytes("/usr/sbin/mke2fs");
        BitConverter.TryWriteBytes(data.AsSpan(0x20), ulong.MaxValue - 8);
        Assert.Throws<InvalidDataException>(() => ElfNeeded.Read(data));
        Assert.Throws<InvalidDataException>(() => ElfNeeded.Read("#!/bin/sh\n"u8));
    }

    private static List<string> Readelf(string program)
    {
        var start = new ProcessStartInfo("readelf", ["-d", "-W", program]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(30_000));
        return [.. Needed().Matches(output).Select(m => m.Groups[1].Value)];
    }

    [GeneratedRegex(@"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")]
    private static partial Regex Needed();
}
