namespace Sidus.Wire.Dhcp;

/// <summary>An inclusive range of addresses the server may hand out.</summary>
public sealed record DhcpPool(Ip4 First, Ip4 Last)
{
    public int Count => (int)Math.Min(int.MaxValue, (long)Last.Value - First.Value + 1);

    public bool Contains(Ip4 address) => address >= First && address <= Last;

    /// <summary>Parses "10.0.0.100-10.0.0.200".</summary>
    public static DhcpPool Parse(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || !Ip4.TryParse(text[..dash].Trim(), out var first) || !Ip4.TryParse(text[(dash + 1)..].Trim(), out var last)
            || last < first)
            throw new FormatException($"'{text}' is not a pool FIRST-LAST with FIRST <= LAST.");
        return new DhcpPool(first, last);
    }

    public override string ToString() => $"{First}-{Last}";
}
