using System.Formats.Tar;
using System.Text;
using Sidus.Agent.Boot;

namespace Sidus.Agent.Tests;

/// <summary>The agent's extraction of an override layer over a root, against hostile archives and hostile images.</summary>
public sealed class AgentOverrideTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-extract-").FullName;

    private string Root => Path.Combine(_dir, "root");

    private string Outside => Path.Combine(_dir, "outside");

    public AgentOverrideTests()
    {
        Directory.CreateDirectory(Path.Combine(Root, "etc"));
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "victim"), "untouched\n");
        // The image's own symlinks pointing out of the root: nothing may be written through them.
        File.CreateSymbolicLink(Path.Combine(Root, "evil"), Outside);
        File.CreateSymbolicLink(Path.Combine(Root, "etc", "victim"), Path.Combine(Outside, "victim"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MemoryStream Tar(params TarEntry[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var e in entries)
            {
                writer.WriteEntry(e);
            }
        }

        stream.Position = 0;
        return stream;
    }

    private static UstarTarEntry Entry(string name, string text, int mode = 0x1A4, int uid = 0, int gid = 0) => new(TarEntryType.RegularFile, name)
    {
        DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
        Mode = (UnixFileMode)mode,
        Uid = uid,
        Gid = gid,
    };

    [Fact]
    public void Extract_GoodLayer_FilesModesOwnersAndLinksWritten()
    {
        var result = OverrideExtractor.Extract(Tar(
            Entry("etc/hostname", "n1\n"),
            Entry("etc/ssh/ssh_host_ed25519_key", "secret\n", 0x180, 0, 0),
            Entry("srv/data/owned", "x", 0x1A0, 1234, 5678),
            new UstarTarEntry(TarEntryType.SymbolicLink, "etc/systemd/system/multi-user.target.wants/sidus-up.service") { LinkName = "../sidus-up.service" }), Root);

        Assert.Empty(result.Refused);
        Assert.Equal(4, result.Written);
        Assert.Equal("n1\n", System.IO.File.ReadAllText(Path.Combine(Root, "etc/hostname")));
        Assert.Equal((UnixFileMode)0x180, System.IO.File.GetUnixFileMode(Path.Combine(Root, "etc/ssh/ssh_host_ed25519_key")));
        var owned = Sidus.Linux.DirectoryHandle.Open(Path.Combine(Root, "srv/data"));
        var st = owned.Stat("owned"u8);
        owned.Dispose();
        Assert.Equal((1234u, 5678u, 0x1A0u), (st.Uid, st.Gid, st.Permissions));
        Assert.Equal("../sidus-up.service", new FileInfo(Path.Combine(Root, "etc/systemd/system/multi-user.target.wants/sidus-up.service")).LinkTarget);
        Assert.Empty(Directory.GetFiles(Path.Combine(Root, "etc"), ".sidus-override-*"));
    }

    [Fact]
    public void Extract_HostileNames_RefusedAndNothingWrittenOutside()
    {
        var result = OverrideExtractor.Extract(Tar(
            Entry("/etc/abs", "x"),
            Entry("../escape", "x"),
            Entry("etc/../../escape2", "x"),
            Entry("etc/./dot", "x"),
            Entry("evil/victim", "pwned\n"),
            Entry("evil/new", "pwned\n"),
            new UstarTarEntry(TarEntryType.HardLink, "etc/hard") { LinkName = "etc/hostname" },
            new UstarTarEntry(TarEntryType.CharacterDevice, "etc/mem") { DeviceMajor = 1, DeviceMinor = 1 },
            Entry("etc/fine", "ok\n")), Root);

        Assert.Equal(1, result.Written);
        Assert.Equal(8, result.Refused.Count);
        Assert.Contains(result.Refused, r => r.StartsWith("evil/victim: evil is a symlink in the image", StringComparison.Ordinal));
        Assert.Equal("untouched\n", System.IO.File.ReadAllText(Path.Combine(Outside, "victim")));
        Assert.False(System.IO.File.Exists(Path.Combine(Outside, "new")));
        Assert.False(System.IO.File.Exists(Path.Combine(_dir, "escape")));
        Assert.False(System.IO.File.Exists(Path.Combine(_dir, "escape2")));
        Assert.False(System.IO.File.Exists(Path.Combine(Root, "etc", "mem")));
    }

    [Fact]
    public void Extract_TargetIsImageSymlink_ReplacedNotFollowed()
    {
        var result = OverrideExtractor.Extract(Tar(Entry("etc/victim", "mine\n")), Root);
        Assert.Empty(result.Refused);
        Assert.Equal("untouched\n", System.IO.File.ReadAllText(Path.Combine(Outside, "victim")));
        Assert.Null(new FileInfo(Path.Combine(Root, "etc/victim")).LinkTarget);
        Assert.Equal("mine\n", System.IO.File.ReadAllText(Path.Combine(Root, "etc/victim")));
    }

    [Fact]
    public void Extract_TruncatedArchive_SaidDamagedNoPartialFile()
    {
        var full = Tar(Entry("etc/a", new string('a', 3000))).ToArray();
        var cut = new MemoryStream(full[..1000]);
        var result = OverrideExtractor.Extract(cut, Root);
        Assert.Contains(result.Refused, r => r.Contains("damaged", StringComparison.Ordinal));
        Assert.False(System.IO.File.Exists(Path.Combine(Root, "etc/a")));
        Assert.Empty(Directory.GetFiles(Path.Combine(Root, "etc"), ".sidus-override-*"));
    }
}
