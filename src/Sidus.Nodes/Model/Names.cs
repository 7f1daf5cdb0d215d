using System.Net.Sockets;

namespace Sidus.Nodes;

/// <summary>Syntax rules for names, image references, kernel arguments, tags and addresses.</summary>
public static class Names
{
    /// <summary>RFC 1035 limit on one DNS label.</summary>
    public const int MaxLabelLength = 63;
    public const int MaxKernelArgsLength = 4096;
    public const int MaxTagKeyLength = 64;
    public const int MaxTagValueLength = 1024;
    public const int MaxImageRefLength = 255;

    /// <summary>A node, group or network name: a DNS label (letters, digits, '-', not at either end), stored lower-case.</summary>
    public static string Label(string? name, string what)
    {
        if (string.IsNullOrEmpty(name))
        {
            return Throw.Invalid<string>($"{what} name is empty");
        }

        if (name.Length > MaxLabelLength)
        {
            return Throw.Invalid<string>($"{what} name '{name}' is {name.Length} characters long; a DNS label has at most {MaxLabelLength}");
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
            {
                return Throw.Invalid<string>(
                    $"{what} name '{name}' has '{c}': names are DNS labels (letters a-z, digits and '-')");
            }
        }

        if (name[0] == '-' || name[^1] == '-')
        {
            return Throw.Invalid<string>($"{what} name '{name}' starts or ends with '-', which a DNS label may not");
        }

        return name.ToLowerInvariant();
    }

    /// <summary>An image reference: NAME, NAME@VERSION or NAME:TAG.</summary>
    public static string ImageRef(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Throw.Invalid<string>("image reference is empty: write NAME, NAME@VERSION or NAME:TAG");
        }

        if (text.Length > MaxImageRefLength)
        {
            return Throw.Invalid<string>($"image reference is longer than {MaxImageRefLength} characters");
        }

        var at = text.IndexOf('@', StringComparison.Ordinal);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (at >= 0 && colon >= 0)
        {
            return Throw.Invalid<string>($"image reference '{text}' has both '@' and ':': write NAME, NAME@VERSION or NAME:TAG");
        }

        var split = Math.Max(at, colon);
        var name = split < 0 ? text : text[..split];
        var suffix = split < 0 ? null : text[(split + 1)..];
        if (!IsImageWord(name, allowSlash: true))
        {
            return Throw.Invalid<string>(
                $"image reference '{text}': the image name must be letters, digits, '.', '_', '-' or '/' and start with a letter or digit");
        }

        if (suffix is not null && !IsImageWord(suffix, allowSlash: false))
        {
            var part = at >= 0 ? "version" : "tag";
            return Throw.Invalid<string>(
                $"image reference '{text}': the {part} after '{text[split]}' must be letters, digits, '.', '_' or '-'");
        }

        return text;
    }

    private static bool IsImageWord(string s, bool allowSlash)
    {
        if (s.Length == 0 || !char.IsAsciiLetterOrDigit(s[0]))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-') && !(allowSlash && c == '/'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Kernel arguments end up inside an iPXE script line, so they are held to the characters the boot script allows
    /// (<see cref="Sidus.Wire.Ipxe.IpxeText.CheckKernelArgs"/>: one definition, checked here when they are set and
    /// again when a script is built).
    /// </summary>
    public static string KernelArgs(string text)
    {
        if (text.Length > MaxKernelArgsLength)
        {
            return Throw.Invalid<string>($"kernel arguments are longer than {MaxKernelArgsLength} characters");
        }

        if (text.Contains('\n', StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal))
        {
            return Throw.Invalid<string>("kernel arguments contain a newline: they must be one line");
        }

        var trimmed = text.Trim();
        return Sidus.Wire.Ipxe.IpxeText.CheckKernelArgs(trimmed) is { } problem ? Throw.Invalid<string>(problem) : trimmed;
    }

    public static string TagKey(string key)
    {
        if (key.Length is 0 or > MaxTagKeyLength)
        {
            return Throw.Invalid<string>($"tag key '{key}' must be 1 to {MaxTagKeyLength} characters");
        }

        foreach (var c in key)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return Throw.Invalid<string>($"tag key '{key}' has '{c}': use letters, digits, '.', '_' and '-'");
            }
        }

        return key;
    }

    public static string TagValue(string key, string value)
    {
        if (value.Length > MaxTagValueLength)
        {
            return Throw.Invalid<string>($"tag '{key}' has a value longer than {MaxTagValueLength} characters");
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return Throw.Invalid<string>($"tag '{key}' has a control character (newline, tab...) in its value");
            }
        }

        return value;
    }

    /// <summary>Parses "key=value" as given on the command line.</summary>
    public static KeyValuePair<string, string> TagAssignment(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            return Throw.Invalid<KeyValuePair<string, string>>($"tag '{text}' is not key=value");
        }

        var key = TagKey(text[..eq]);
        return new(key, TagValue(key, text[(eq + 1)..]));
    }

    /// <summary>
    /// A path `sidus node update` leaves alone: the rule the update itself applies
    /// (<see cref="Sidus.Wire.Contracts.ExcludePath"/>: absolute, no "." or "..", not "/", one line), so a path the
    /// inventory takes never makes an update fail.
    /// </summary>
    public static string UpdateExclude(string path) =>
        Sidus.Wire.Contracts.ExcludePath.Problem(path) is { } problem ? Throw.Invalid<string>("update " + problem) : path;

    /// <summary>A fixed node address: IPv4, not unspecified, broadcast or multicast.</summary>
    public static IPAddress Ipv4(string text)
    {
        if (!IPAddress.TryParse(text.Trim(), out var ip) || ip.AddressFamily != AddressFamily.InterNetwork
            || text.Count(c => c == '.') != 3)
        {
            return Throw.Invalid<IPAddress>($"'{text}' is not an IPv4 address (like 10.0.0.10)");
        }

        return Ipv4(ip);
    }

    public static IPAddress Ipv4(IPAddress ip)
    {
        if (ip.AddressFamily != AddressFamily.InterNetwork)
        {
            return Throw.Invalid<IPAddress>($"'{ip}' is not an IPv4 address");
        }

        var b = ip.GetAddressBytes();
        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.Broadcast) || b[0] >= 224)
        {
            return Throw.Invalid<IPAddress>($"'{ip}' cannot be a node's address (unspecified, broadcast, multicast or reserved)");
        }

        return ip;
    }
}
