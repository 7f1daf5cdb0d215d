using System.Net;
using Sidus.Nodes.Bulk;

namespace Sidus.Nodes.Tests;

public class ModelTests
{
    [Theory]
    [InlineData("aa:bb:cc:dd:ee:0f")]
    [InlineData("AA-BB-CC-DD-EE-0F")]
    [InlineData("aabbccddee0f")]
    [InlineData("aabb.ccdd.ee0f")]
    [InlineData("  aa:bb:cc:dd:ee:0f ")]
    public void MacParse_AcceptedFormats_NormaliseToColons(string text)
    {
        Assert.Equal("aa:bb:cc:dd:ee:0f", MacAddress.Parse(text).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("aa:bb:cc:dd:ee")]
    [InlineData("aa:bb:cc:dd:ee:ff:00")]
    [InlineData("aa:bb-cc:dd:ee:ff")]
    [InlineData("aabb:ccdd:eeff")]
    [InlineData("a:bb:cc:dd:ee:fff")]
    [InlineData("gg:bb:cc:dd:ee:ff")]
    [InlineData("aabbccddeeff0")]
    public void MacParse_Malformed_IsInvalid(string text)
    {
        var e = Assert.Throws<InventoryException>(() => MacAddress.Parse(text));
        Assert.Equal(InventoryErrorKind.Invalid, e.Kind);
        Assert.Contains("MAC", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MacBytes_RoundTrip_Exact()
    {
        byte[] bytes = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        var mac = MacAddress.FromBytes(bytes);
        Assert.Equal("52:54:00:12:34:56", mac.ToString());
        var back = new byte[6];
        mac.WriteBytes(back);
        Assert.Equal(bytes, back);
    }

    [Theory]
    [InlineData("debian")]
    [InlineData("debian@3")]
    [InlineData("debian:stable")]
    [InlineData("lab/debian-12@v1.2_3")]
    public void ImageRef_ValidSyntax_Accepted(string text) => Assert.Equal(text, Names.ImageRef(text));

    [Theory]
    [InlineData("debian@3:x")]
    [InlineData("@3")]
    [InlineData("debian@")]
    [InlineData("deb ian")]
    [InlineData("debian:sta/ble")]
    [InlineData("-debian")]
    public void ImageRef_BadSyntax_Invalid(string text) =>
        Assert.Equal(InventoryErrorKind.Invalid, Assert.Throws<InventoryException>(() => Names.ImageRef(text)).Kind);

    [Theory]
    [InlineData("node_1")]
    [InlineData("-node")]
    [InlineData("node-")]
    [InlineData("nöde")]
    [InlineData("node.example")]
    [InlineData("")]
    public void Label_NotDnsLabel_Invalid(string name)
    {
        var e = Assert.Throws<InventoryException>(() => Names.Label(name, "node"));
        Assert.Equal(InventoryErrorKind.Invalid, e.Kind);
    }

    [Fact]
    public void Label_TooLong_Invalid() =>
        Assert.Contains("63", Assert.Throws<InventoryException>(() => Names.Label(new string('a', 64), "node")).Message, StringComparison.Ordinal);

    [Fact]
    public void Label_Uppercase_StoredLowercase() => Assert.Equal("node01", Names.Label("Node01", "node"));

    [Theory]
    [InlineData("quiet\nchain http://evil/")]
    [InlineData("quiet\r")]
    [InlineData("root=${root-path}")]
    [InlineData("a\tb")]
    [InlineData("a ; shell")]
    [InlineData("quiet # comment")]
    [InlineData("quiet $x")]
    [InlineData("acpi_osi=\"Linux\"")]
    public void KernelArgs_InjectionOrControl_Invalid(string args) =>
        Assert.Equal(InventoryErrorKind.Invalid, Assert.Throws<InventoryException>(() => Names.KernelArgs(args)).Kind);

    [Fact]
    public void KernelArgs_Plain_Kept() =>
        Assert.Equal("console=ttyS0,115200n8 root=UUID=0f3a-77 ip=10.0.0.2::10.0.0.1:255.255.255.0:n1:eth0:off crashkernel=256M@16M isolcpus=1-3",
            Names.KernelArgs(" console=ttyS0,115200n8 root=UUID=0f3a-77 ip=10.0.0.2::10.0.0.1:255.255.255.0:n1:eth0:off crashkernel=256M@16M isolcpus=1-3 "));

    [Fact]
    public void KernelArgs_Refused_SaysWhichCharacterAndWhatIsAllowed() =>
        Assert.Contains("kernel arguments contain ';'; they may hold letters, digits, spaces and -_.,:=/+@%~[]",
            Assert.Throws<InventoryException>(() => Names.KernelArgs("a ; shell")).Message, StringComparison.Ordinal);

    [Fact]
    public void Node_DuplicateMacInOneNode_Invalid()
    {
        var mac = MacAddress.Parse("02:00:00:00:00:01");
        var n = new Node { Name = "n1", Macs = [mac, mac] };
        Assert.Contains("twice", Assert.Throws<InventoryException>(() => n.Validated()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_NoMac_InvalidWithHint()
    {
        var e = Assert.Throws<InventoryException>(() => new Node { Name = "n1" }.Validated());
        Assert.Contains("--mac", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("0.0.0.0")]
    [InlineData("10.0.0")]
    [InlineData("fe80::1")]
    public void Ipv4_NotUsable_Invalid(string ip) =>
        Assert.Equal(InventoryErrorKind.Invalid, Assert.Throws<InventoryException>(() => Names.Ipv4(ip)).Kind);

    [Fact]
    public void NameRange_ZeroPadded_ExpandsInOrder()
    {
        var names = NameRange.Expand("node[001-128]");
        Assert.Equal(128, names.Count);
        Assert.Equal("node001", names[0]);
        Assert.Equal("node010", names[9]);
        Assert.Equal("node128", names[^1]);
    }

    [Fact]
    public void NameRange_UnpaddedWithSuffix_Expands() =>
        Assert.Equal(["r1-a", "r2-a", "r3-a"], NameRange.Expand("r[1-3]-a"));

    [Fact]
    public void NameRange_PaddingWiderThanNeeded_KeepsWidth() =>
        Assert.Equal(["n0998", "n0999", "n1000"], NameRange.Expand("n[0998-1000]"));

    [Theory]
    [InlineData("node001")]
    [InlineData("node[5-1]")]
    [InlineData("node[a-b]")]
    [InlineData("node[1-2][3-4]")]
    [InlineData("node[1-999999]")]
    [InlineData("node_[1-2]")]
    public void NameRange_Bad_Invalid(string pattern) =>
        Assert.Equal(InventoryErrorKind.Invalid, Assert.Throws<InventoryException>(() => NameRange.Expand(pattern)).Kind);

    [Fact]
    public void BulkBuild_IpsIncrementAcrossOctet()
    {
        var names = NameRange.Expand("n[1-3]");
        var macs = BulkNodes.ReadMacs(new StringReader("# rack 1\n02:00:00:00:00:01\n\n02-00-00-00-00-02 port7\n020000000003\n"), "macs.txt");
        var nodes = BulkNodes.Build(names, macs, IPAddress.Parse("10.0.0.254"), ["compute"], NodeSettings.Empty);
        Assert.Equal(["10.0.0.254", "10.0.0.255", "10.0.1.0"], nodes.Select(n => n.Ip!.ToString()));
        Assert.Equal("02:00:00:00:00:03", nodes[2].Macs[0].ToString());
        Assert.All(nodes, n => Assert.Equal(["compute"], n.Groups.ToArray()));
    }

    [Fact]
    public void BulkBuild_CountMismatch_InvalidNamesBoth()
    {
        var e = Assert.Throws<InventoryException>(() => BulkNodes.Build(
            NameRange.Expand("n[1-3]"), [MacAddress.Parse("02:00:00:00:00:01")], null, [], NodeSettings.Empty));
        Assert.Contains("3 names", e.Message, StringComparison.Ordinal);
        Assert.Contains("1 MACs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMacs_BadLine_ReportsLineNumber()
    {
        var e = Assert.Throws<InventoryException>(() => BulkNodes.ReadMacs(new StringReader("02:00:00:00:00:01\nnot-a-mac\n"), "macs.txt"));
        Assert.StartsWith("macs.txt:2:", e.Message, StringComparison.Ordinal);
    }
}
