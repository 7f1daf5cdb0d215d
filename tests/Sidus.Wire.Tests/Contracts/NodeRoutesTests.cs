using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes the routes iPXE and the node agent ask for.</summary>
public sealed class NodeRoutesTests
{
    [Fact]
    public void Templates_Frozen()
    {
        Assert.Equal("/boot/ipxe", NodeRoutes.Chain);
        Assert.Equal("/boot/", NodeRoutes.ScriptPrefix);
        Assert.Equal("/boot/{mac}.ipxe", NodeRoutes.ScriptTemplate);
        Assert.Equal("/images/{version}/{file}", NodeRoutes.ImageFileTemplate);
        Assert.Equal("/api/nodes/{mac}/events", NodeRoutes.EventsTemplate);
        Assert.Equal("/api/nodes/{mac}/overrides.tar", NodeRoutes.OverridesTemplate);
        Assert.Equal(
            ["vmlinuz", "initrd", "sidus-vmlinuz", "sidus-initrd"],
            [NodeRoutes.ImageFiles.Kernel, NodeRoutes.ImageFiles.Initrd, NodeRoutes.ImageFiles.AgentKernel, NodeRoutes.ImageFiles.AgentInitrd]);
    }

    [Fact]
    public void Functions_FillTheirTemplates()
    {
        Assert.Equal("/boot/52-54-00-00-01-01.ipxe", NodeRoutes.Script("52-54-00-00-01-01"));
        Assert.Equal("/images/abc123/sidus-initrd", NodeRoutes.ImageFile("abc123", NodeRoutes.ImageFiles.AgentInitrd));
        Assert.Equal("/api/nodes/52:54:00:00:01:01/events", NodeRoutes.Events("52:54:00:00:01:01"));
        Assert.Equal("/api/nodes/52:54:00:00:01:01/overrides.tar", NodeRoutes.Overrides("52:54:00:00:01:01"));
        Assert.Equal(NodeRoutes.ScriptTemplate.Replace("{mac}", "m", StringComparison.Ordinal), NodeRoutes.Script("m"));
        Assert.Equal(NodeRoutes.EventsTemplate.Replace("{mac}", "m", StringComparison.Ordinal), NodeRoutes.Events("m"));
        Assert.Equal(NodeRoutes.OverridesTemplate.Replace("{mac}", "m", StringComparison.Ordinal), NodeRoutes.Overrides("m"));
        Assert.Equal(NodeRoutes.ImageFileTemplate.Replace("{version}", "v", StringComparison.Ordinal).Replace("{file}", "f", StringComparison.Ordinal), NodeRoutes.ImageFile("v", "f"));
    }
}
