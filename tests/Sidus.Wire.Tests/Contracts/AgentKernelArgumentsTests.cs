using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes the kernel command line the server writes for the node agent and how the agent reads it.</summary>
public sealed class AgentKernelArgumentsTests
{
    private const string Root = "4392fe1e6a1e7a4e34d0a48f4a5e4ae7f21d3c07b3f1c5a4bbf84a1d2a7c4f10";
    private const string Version = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    /// <summary>What the server writes for a shared node with NBD on.</summary>
    private static readonly AgentKernelArguments Shared = new()
    {
        Mac = "52:54:00:00:01:01",
        Node = "n1",
        Hostname = "n1",
        Mode = BootMode.Shared,
        Image = Version,
        ImageRef = "deb@1",
        Server = "http://10.0.0.1:8080",
        Nbd = "10.0.0.1:10809",
        Verity = Verity($"{Root}:00ff:97312"),
    };

    private const string SharedText =
        "BOOTIF=01-52-54-00-00-01-01 sidus.node=n1 sidus.hostname=n1 sidus.mode=shared sidus.image=" + Version +
        " sidus.imageref=deb@1 sidus.server=http://10.0.0.1:8080 sidus.nbd=10.0.0.1:10809 sidus.verity=" + Root + ":00ff:97312";

    [Fact]
    public void Format_SharedNode_FrozenText() => Assert.Equal(SharedText, Shared.Format());

    [Fact]
    public void Format_EveryArgument_FixedOrder()
    {
        var all = Shared with { Manifest = "abcd", RootSize = "2G", Export = "other", Overlay = "disk:/dev/vdb", RamSync = true, Mode = BootMode.Ram, Ticket = "AQ-_z9" };
        Assert.Equal(
            "BOOTIF=01-52-54-00-00-01-01 sidus.node=n1 sidus.hostname=n1 sidus.mode=ram sidus.image=" + Version +
            " sidus.imageref=deb@1 sidus.server=http://10.0.0.1:8080 sidus.manifest=abcd sidus.rootsize=2G sidus.nbd=10.0.0.1:10809" +
            " sidus.export=other sidus.overlay=disk:/dev/vdb sidus.verity=" + Root + ":00ff:97312 sidus.ram=sync sidus.ticket=AQ-_z9",
            all.Format());
        Assert.Equal(all, AgentKernelArguments.Parse(all.Format()));
    }

    [Fact]
    public void Format_Empty_EmptyLine() => Assert.Equal(string.Empty, new AgentKernelArguments().Format());

    [Fact]
    public void Parse_Format_RoundTrips()
    {
        Assert.Equal(Shared, AgentKernelArguments.Parse(Shared.Format()));
    }

    [Fact]
    public void Parse_KernelLineWithOtherWords_OursReadOthersIgnored()
    {
        var line = AgentKernelArguments.Parse($"console=ttyS0 initrd=initrd {SharedText} quiet panic=-1\n");
        Assert.Equal(Shared, line);
        Assert.Null(line.Problem);
        Assert.Equal(BootMode.Shared, line.ModeOrDefault);
        Assert.Equal("deb", line.ImageName);
        Assert.Equal(Version, line.ExportOrImage);
        Assert.False(line.RamFromExport);
    }

    [Fact]
    public void Parse_Nothing_Defaults()
    {
        var line = AgentKernelArguments.Parse("console=ttyS0");
        Assert.Equal(new AgentKernelArguments(), line);
        Assert.Equal(BootMode.Ram, line.ModeOrDefault);
        Assert.Equal("90%", line.RootSizeOrDefault);
        Assert.Equal("tmpfs", line.OverlayOrDefault);
        Assert.Null(line.ExportOrImage);
        Assert.Null(line.ImageName);
        Assert.False(line.RamFromExport);
    }

    [Theory]
    [InlineData("BOOTIF=01-52-54-00-AB-01-01", "52:54:00:ab:01:01")]
    [InlineData("sidus.mac=52-54-00-AB-01-02 BOOTIF=01-52-54-00-ab-01-01", "52:54:00:ab:01:02")]
    [InlineData("sidus.mac=52:54:00:ab:01:03", "52:54:00:ab:01:03")]
    [InlineData("BOOTIF=01", null)]
    public void Parse_BootInterface_LowerCaseColons(string text, string? mac) =>
        Assert.Equal(mac, AgentKernelArguments.Parse(text).Mac);

    [Fact]
    public void Parse_RepeatedWord_LastWins() =>
        Assert.Equal(BootMode.Ram, AgentKernelArguments.Parse("sidus.mode=shared sidus.mode=ram").Mode);

    [Fact]
    public void Parse_ServerWithSlash_Trimmed() =>
        Assert.Equal("http://h:1", AgentKernelArguments.Parse("sidus.server=http://h:1//").Server);

    [Theory]
    [InlineData("sidus.mode=ram sidus.nbd=10.0.0.1:10809 sidus.verity=" + Root + ":00ff:97312", true)]
    [InlineData("sidus.nbd=10.0.0.1:10809 sidus.verity=" + Root + ":00ff:97312", true)]
    [InlineData("sidus.mode=ram sidus.nbd=10.0.0.1:10809 sidus.verity=" + Root + ":00ff:97312 sidus.ram=sync", false)]
    [InlineData("sidus.mode=ram sidus.nbd=10.0.0.1:10809", false)]
    [InlineData("sidus.mode=ram sidus.verity=" + Root + ":00ff:97312", false)]
    [InlineData("sidus.mode=shared sidus.nbd=10.0.0.1:10809 sidus.verity=" + Root + ":00ff:97312", false)]
    public void RamFromExport_NeedsRamModeNbdAndVerityWithoutSync(string text, bool expected) =>
        Assert.Equal(expected, AgentKernelArguments.Parse(text).RamFromExport);

    [Fact]
    public void Parse_WellFormedVerity_ParsedOnce()
    {
        var line = AgentKernelArguments.Parse($"console=ttyS0 sidus.mode=ram sidus.verity={Root}:00ff:97312 sidus.nbd=10.0.0.1:10809\n");
        Assert.Null(line.Problem);
        Assert.Equal(Verity($"{Root}:00ff:97312"), line.Verity);
        Assert.Same(line.Verity, line.Verity);
    }

    [Fact]
    public void Parse_MalformedVerity_NoVerityAndSaysWhy()
    {
        var line = AgentKernelArguments.Parse($"sidus.mode=shared sidus.verity={Root}:00");
        Assert.Null(line.Verity);
        Assert.Equal($"sidus.verity={Root}:00 is not ROOTHASH:SALT:DATABLOCKS (64 hex digits, hex, a block count)", line.Problem);
    }

    [Fact]
    public void Parse_UnknownMode_NoModeAndSaysWhy()
    {
        var line = AgentKernelArguments.Parse("sidus.mode=teleport sidus.image=x");
        Assert.Null(line.Mode);
        Assert.Equal("x", line.Image);
        Assert.Equal("sidus.mode=teleport is not a boot mode (ram | shared | install | local | menu)", line.Problem);
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("tab\there")]
    public void Format_ValueNotOneWord_ArgumentException(string hostname) =>
        Assert.Throws<ArgumentException>(() => new AgentKernelArguments { Hostname = hostname }.Format());

    private static VerityInfo Verity(string text) =>
        VerityInfo.TryParse(text, out var verity, out var problem) ? verity! : throw new InvalidOperationException(problem);
}
