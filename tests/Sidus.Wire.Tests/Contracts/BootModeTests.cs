using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes the boot modes: their spellings are stored in the inventory and cluster.yaml and sent as sidus.mode.</summary>
public sealed class BootModeTests
{
    [Fact]
    public void BootMode_ValuesAndSpellings_Frozen()
    {
        Assert.Equal([1, 2, 3, 4, 5], Enum.GetValues<BootMode>().Select(m => (int)m));
        Assert.Equal(["ram", "shared", "install", "local", "menu"], Enum.GetValues<BootMode>().Select(m => m.ToText()));
        Assert.Equal("ram | shared | install | local | menu", BootModes.Choices);
    }

    [Theory]
    [InlineData("ram", BootMode.Ram)]
    [InlineData(" Shared ", BootMode.Shared)]
    [InlineData("INSTALL", BootMode.Install)]
    [InlineData("local", BootMode.Local)]
    [InlineData("menu", BootMode.Menu)]
    public void TryParse_Spelling_Mode(string text, BootMode expected)
    {
        Assert.True(BootModes.TryParse(text, out var mode));
        Assert.Equal(expected, mode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("reboot-everything")]
    [InlineData("1")]
    [InlineData(null)]
    public void TryParse_NotAMode_False(string? text) => Assert.False(BootModes.TryParse(text, out _));
}
