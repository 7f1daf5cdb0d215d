namespace Sidus.Wire.Ipxe;

/// <summary>
/// What may go into an iPXE script line. iPXE expands <c>${...}</c> everywhere, splits commands on <c>||</c> and
/// <c>&amp;&amp;</c>, and ends a command at a newline: text from the inventory that carried any of these could run
/// commands of its author's choosing on every node that boots the script.
/// </summary>
public static class IpxeText
{
    /// <summary>Longest kernel command line accepted (Linux's x86 COMMAND_LINE_SIZE is 2048; leave room for ours).</summary>
    public const int MaxKernelArgsLength = 1536;

    /// <summary>Null when <paramref name="args"/> may be put on a <c>kernel</c> line, else why not.</summary>
    public static string? CheckKernelArgs(string args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > MaxKernelArgsLength)
        {
            return $"kernel arguments are {args.Length} characters long; at most {MaxKernelArgsLength} fit";
        }

        foreach (var c in args)
        {
            if (c is < ' ' or > '~')
            {
                return $"kernel arguments contain the character U+{(int)c:X4}; only printable ASCII is allowed";
            }
        }

        foreach (var bad in (ReadOnlySpan<string>)["${", "||", "&&"])
        {
            if (args.Contains(bad, StringComparison.Ordinal))
            {
                return $"kernel arguments contain '{bad}', which iPXE would interpret";
            }
        }

        return null;
    }

    /// <summary>
    /// Text made safe for an <c>echo</c> or <c>menu</c>/<c>item</c> title: letters, digits, spaces and plain
    /// punctuation kept, anything else replaced by '?', so a node or image name can never become a command.
    /// </summary>
    public static string Message(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or ',' or ':' or ';' or '/' or '(' or ')' or '@' or '_' or '+' or '=' or '-' or '\'' or '!' or '?'
                    ? c
                    : '?';
            }
        });
    }

    /// <summary>True when <paramref name="path"/> is a URL path we generated: no spaces, quotes or expansions.</summary>
    public static bool IsSafeUrl(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var c in path)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or ':' or '?' or '=' or '&' or '%' or '@' or '[' or ']'))
            {
                return false;
            }
        }

        return !path.Contains("${", StringComparison.Ordinal) && !path.Contains("&&", StringComparison.Ordinal);
    }
}
