namespace Sidus.Wire.Dhcp;

/// <summary>An IPv4 address held as a host-order integer so pools can count and compare addresses cheaply.</summary>
public readonly record struct Ip4(uint Value) : IComparable<Ip4>
{
    public const int Size = 4;

    public static readonly Ip4 Any = new(0);
    public static readonly Ip4 Broadcast = new(0xFFFFFFFF);

    public bool IsZero => Value == 0;

    public static Ip4 Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt32BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    public static Ip4 Parse(string text) =>
        TryParse(text, out var ip) ? ip : throw new FormatException($"'{text}' is not an IPv4 address.");

    public static bool TryParse([NotNullWhen(true)] string? text, out Ip4 ip)
    {
        ip = Any;
        if (text is null || !IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
            return false;
        ip = FromIPAddress(address);
        return true;
    }

    public static Ip4 FromIPAddress(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[Size];
        if (address.AddressFamily != AddressFamily.InterNetwork || !address.TryWriteBytes(bytes, out _))
            throw new ArgumentException("Not an IPv4 address.", nameof(address));
        return Read(bytes);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[Size];
        Write(bytes);
        return new IPAddress(bytes);
    }

    /// <summary>The mask with <paramref name="prefixLength"/> leading one bits.</summary>
    public static Ip4 MaskFromPrefix(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return new(prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength));
    }

    public bool IsInSubnet(Ip4 network, Ip4 mask) => (Value & mask.Value) == (network.Value & mask.Value);

    public int CompareTo(Ip4 other) => Value.CompareTo(other.Value);

    public static bool operator <(Ip4 left, Ip4 right) => left.Value < right.Value;
    public static bool operator >(Ip4 left, Ip4 right) => left.Value > right.Value;
    public static bool operator <=(Ip4 left, Ip4 right) => left.Value <= right.Value;
    public static bool operator >=(Ip4 left, Ip4 right) => left.Value >= right.Value;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Value >> 24}.{(Value >> 16) & 0xFF}.{(Value >> 8) & 0xFF}.{Value & 0xFF}");
}
