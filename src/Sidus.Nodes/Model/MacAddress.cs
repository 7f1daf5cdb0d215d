namespace Sidus.Nodes;

/// <summary>An Ethernet (EUI-48) address. Accepts aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff and aabb.ccdd.eeff.</summary>
public readonly record struct MacAddress : IComparable<MacAddress>
{
    public const int Length = 6;
    private const int HexDigits = Length * 2;
    private const ulong Mask = (1UL << 48) - 1;

    public MacAddress(ulong value)
    {
        if ((value & ~Mask) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "a MAC address has 48 bits");
        }

        Value = value;
    }

    /// <summary>The 48 bits, first octet in the most significant position.</summary>
    public ulong Value { get; }

    public static MacAddress FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException("a MAC address is 6 bytes", nameof(bytes));
        }

        ulong v = 0;
        foreach (var b in bytes)
        {
            v = (v << 8) | b;
        }

        return new MacAddress(v);
    }

    public void WriteBytes(Span<byte> destination)
    {
        for (var i = 0; i < Length; i++)
        {
            destination[i] = (byte)(Value >> (8 * (Length - 1 - i)));
        }
    }

    /// <summary>
    /// Why no network card can have this address (all-zero, broadcast, or multicast: the lowest bit of the first
    /// octet set), or null when it is an ordinary unicast address.
    /// </summary>
    public string? NotACardProblem => Value switch
    {
        0 => "the all-zero MAC, which no network card has",
        Mask => "the broadcast MAC, which no network card has",
        _ when ((Value >> 40) & 1) != 0 => $"a multicast MAC (the first octet {Value >> 40:x2} is odd), which no network card has",
        _ => null,
    };

    public static MacAddress Parse(string text) =>
        TryParse(text, out var mac)
            ? mac
            : Throw.Invalid<MacAddress>(
                $"'{text}' is not a MAC address: write six hex octets as aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff or aabbccddeeff");

    public static bool TryParse(string? text, out MacAddress mac)
    {
        mac = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        Span<char> digits = stackalloc char[HexDigits];
        var count = 0;
        var s = text.AsSpan().Trim();
        char? separator = null;
        var groupLength = 0;
        var expectedGroup = 0;
        foreach (var c in s)
        {
            if (char.IsAsciiHexDigit(c))
            {
                if (count == HexDigits)
                {
                    return false;
                }

                digits[count++] = c;
                groupLength++;
                continue;
            }

            if (c is not (':' or '-' or '.'))
            {
                return false;
            }

            separator ??= c;
            if (c != separator)
            {
                return false;
            }

            // Groups are octets (aa:bb) or, with dots, Cisco's 16-bit words (aabb.ccdd.eeff); each group has one size.
            expectedGroup = c == '.' ? 4 : 2;
            if (groupLength != expectedGroup)
            {
                return false;
            }

            groupLength = 0;
        }

        if (count != HexDigits || (separator is not null && groupLength != expectedGroup))
        {
            return false;
        }

        mac = new MacAddress(ulong.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        return true;
    }

    public int CompareTo(MacAddress other) => Value.CompareTo(other.Value);

    public override string ToString() => string.Create(17, Value, static (span, v) =>
    {
        const string hex = "0123456789abcdef";
        for (var i = 0; i < Length; i++)
        {
            var b = (byte)(v >> (8 * (Length - 1 - i)));
            span[i * 3] = hex[b >> 4];
            span[(i * 3) + 1] = hex[b & 0xF];
            if (i < Length - 1)
            {
                span[(i * 3) + 2] = ':';
            }
        }
    });

    public static bool operator <(MacAddress left, MacAddress right) => left.CompareTo(right) < 0;

    public static bool operator <=(MacAddress left, MacAddress right) => left.CompareTo(right) <= 0;

    public static bool operator >(MacAddress left, MacAddress right) => left.CompareTo(right) > 0;

    public static bool operator >=(MacAddress left, MacAddress right) => left.CompareTo(right) >= 0;
}
