using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes how a node carries its credential: the claim route, the ticket in a boot file's URL, the session
/// in the Authorization header and in an NBD export name.</summary>
public sealed class NodeCredentialsTests
{
    private const string Version = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public void Routes_FrozenText()
    {
        Assert.Equal("/api/boot/claim", NodeRoutes.Claim);
        Assert.Equal("sidus.ticket", AgentKernelArguments.Names.Ticket);
        Assert.Equal($"/images/{Version}/sidus-vmlinuz?ticket=AQ-_z9", NodeCredentials.WithTicket(NodeRoutes.ImageFile(Version, NodeRoutes.ImageFiles.AgentKernel), "AQ-_z9"));
        Assert.Equal("Bearer AQ-_z9", NodeCredentials.Authorization("AQ-_z9"));
    }

    [Fact]
    public void ExportName_WithSession_SplitsBack()
    {
        var name = NodeCredentials.ExportName(Version, "AQ-_z9");
        Assert.Equal(Version + "!AQ-_z9", name);
        Assert.Equal((Version, "AQ-_z9"), NodeCredentials.SplitExportName(name));
        Assert.Equal((Version, (string?)null), NodeCredentials.SplitExportName(Version));
        Assert.Equal((Version, ""), NodeCredentials.SplitExportName(Version + "!"));
    }

    [Theory]
    [InlineData("AQ-_z9", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("a=b", false)]
    [InlineData("a;shell", false)]
    [InlineData("a\n", false)]
    public void IsWellFormed_Base64UrlOnly(string text, bool expected) => Assert.Equal(expected, NodeCredentials.IsWellFormed(text));

    [Fact]
    public void IsWellFormed_TooLong_Refused()
    {
        Assert.True(NodeCredentials.IsWellFormed(new string('a', NodeCredentials.MaxLength)));
        Assert.False(NodeCredentials.IsWellFormed(new string('a', NodeCredentials.MaxLength + 1)));
    }
}
