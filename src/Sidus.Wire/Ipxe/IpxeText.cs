namespace Sidus.Wire.Ipxe;

/// <summary>
/// What may go into an iPXE script line. iPXE expands <c>${...}</c> everywhere, splits commands on <c>||</c>,
/// <c>&amp;&amp;</c> and <c>;</c>, starts a comment at <c>#</c> and ends a command at a newline: text from the
/// inventory that carried any of these could run commands of its author's choosing on every node that boots the
/// script. Each field is built from an allow-list of characters, never filtered through a deny-list.
/// </summary>
public static class IpxeText
{
    /// <summary>Longest kernel command line accepted (Linux's x86 COMMAND_LINE_SIZE is 2048; leave room for ours).</summary>
    public const int MaxKernelArgsLength = 1536;

    /// <summary>
    /// The punctuation a kernel argument may hold besides ASCII letters, digits and the spaces between arguments:
    /// enough for <c>console=ttyS0,115200n8</c>, <c>root=UUID=...</c>, <c>ip=a::b:c:host:eth0:off</c>,
    /// <c>sidus.server=http://[fe80::1]:80</c>, <c>crashkernel=256M@16M</c>, <c>isolcpus=1-3</c>. Everything else is
    /// refused: an allow-list, because iPXE gives meaning to more characters than a deny-list remembers (<c>$</c>,
    /// <c>;</c>, <c>#</c>, <c>||</c>, <c>&amp;&amp;</c>, quotes, backslashes, newlines).
    /// </summary>
    public const string KernelArgsPunctuation = "-_.,:=/+@%~[]";

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
            if (!char.IsAsciiLetterOrDigit(c) && c != ' ' && !KernelArgsPunctuation.Contains(c, StringComparison.Ordinal))
            {
                var shown = c is > ' ' and <= '~' ? $"'{c}'" : $"U+{(int)c:X4}";
                return $"kernel arguments contain {shown}; they may hold letters, digits, spaces and {KernelArgsPunctuation}";
            }
        }

        return null;
    }

    /// <summary>
    /// Text made safe for an <c>echo</c> or <c>menu</c>/<c>item</c> title: letters, digits, spaces and plain
    /// punctuation kept, <c>;</c> (where iPXE ends a command and runs what follows) shown as ',', anything else
    /// replaced by '?', so a node or image name can never become a command.
    /// </summary>
    public static string Message(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c == ';' ? ','
                    : char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or ',' or ':' or '/' or '(' or ')' or '@' or '_' or '+' or '=' or '-' or '\'' or '!' or '?'
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
