namespace Sidus.Agent.Modules;

/// <summary>fnmatch(3) as modprobe uses it for modules.alias: '*', '?' and '[...]' classes (with '!' or '^').</summary>
internal static class Glob
{
    public static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (p < pattern.Length && MatchOne(pattern, ref p, text[t]))
            {
                t++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Matches one pattern element at P against C; advances P past it when it matches.</summary>
    private static bool MatchOne(ReadOnlySpan<char> pattern, ref int p, char c)
    {
        if (pattern[p] == '?')
        {
            p++;
            return true;
        }

        if (pattern[p] != '[')
        {
            if (pattern[p] != c)
            {
                return false;
            }

            p++;
            return true;
        }

        var i = p + 1;
        var negate = i < pattern.Length && pattern[i] is '!' or '^';
        if (negate)
        {
            i++;
        }

        var matched = false;
        var first = true;
        while (i < pattern.Length && (first || pattern[i] != ']'))
        {
            first = false;
            if (i + 2 < pattern.Length && pattern[i + 1] == '-' && pattern[i + 2] != ']')
            {
                matched |= c >= pattern[i] && c <= pattern[i + 2];
                i += 3;
            }
            else
            {
                matched |= pattern[i] == c;
                i++;
            }
        }

        if (i >= pattern.Length)
        {
            // An unclosed '[' is a literal, as fnmatch treats it.
            if (c != '[')
            {
                return false;
            }

            p++;
            return true;
        }

        if (matched == negate)
        {
            return false;
        }

        p = i + 1;
        return true;
    }
}
