namespace Sidus.Nodes.Overrides;

/// <summary>
/// The override template syntax, deliberately small: <c>{{ node.name }}</c> is replaced by the variable's value;
/// <c>{{ tag.nfs | default "10.0.0.1" }}</c> gives a value for a variable that is known but not set for this node;
/// <c>{{ "{{" }}</c> writes a literal. An unknown variable, a known one with no value and no default, or a
/// malformed <c>{{ }}</c> is an <see cref="OverrideException"/> naming the file and line: a template never renders
/// an empty string by accident.
/// </summary>
public static class TemplateEngine
{
    public const string Open = "{{";
    public const string Close = "}}";
    private const string DefaultFilter = "default";

    /// <summary>
    /// Renders <paramref name="text"/>. <paramref name="variables"/> maps every known name to its value, null when
    /// the name is known but has no value for this node.
    /// </summary>
    public static string Render(string text, IReadOnlyDictionary<string, string?> variables, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(variables);
        var sb = new StringBuilder(text.Length);
        var at = 0;
        while (true)
        {
            var open = text.IndexOf(Open, at, StringComparison.Ordinal);
            if (open < 0)
            {
                sb.Append(text, at, text.Length - at);
                return sb.ToString();
            }

            sb.Append(text, at, open - at);
            var close = FindClose(text, open + Open.Length);
            if (close < 0)
            {
                Fail(source, text, open, "'{{' is not closed by '}}' on the same line");
            }

            var expression = text[(open + Open.Length)..close];
            sb.Append(Evaluate(expression, variables, source, text, open));
            at = close + Close.Length;
        }
    }

    /// <summary>The line (from 1) of character <paramref name="index"/>.</summary>
    public static int LineOf(string text, int index)
    {
        ArgumentNullException.ThrowIfNull(text);
        var line = 1;
        for (var i = 0; i < index && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
            }
        }

        return line;
    }

    /// <summary>The matching "}}" on the same line, skipping quoted strings; -1 when there is none.</summary>
    private static int FindClose(string text, int from)
    {
        var quoted = false;
        for (var i = from; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                return -1;
            }

            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && c == '}' && i + 1 < text.Length && text[i + 1] == '}')
            {
                return i;
            }
        }

        return -1;
    }

    private static string Evaluate(string expression, IReadOnlyDictionary<string, string?> variables, string source, string text, int at)
    {
        var parts = expression.Split('|', 2);
        var head = parts[0].Trim();
        string? fallback = null;
        if (parts.Length == 2)
        {
            var filter = parts[1].Trim();
            if (!filter.StartsWith(DefaultFilter, StringComparison.Ordinal) ||
                !TryLiteral(filter[DefaultFilter.Length..].Trim(), out fallback))
            {
                Fail(source, text, at, $"'{filter}' is not a filter: the only one is default \"TEXT\"");
            }
        }

        if (head.Length == 0)
        {
            Fail(source, text, at, "empty '{{ }}': write a variable name, like {{ node.name }}");
        }

        if (TryLiteral(head, out var literal))
        {
            return literal!;
        }

        if (!variables.TryGetValue(head, out var value))
        {
            var known = string.Join(", ", variables.Keys.Order(StringComparer.Ordinal));
            Fail(source, text, at, $"unknown variable '{head}' (known here: {known})");
        }

        return value ?? fallback ?? Fail<string>(source, text, at,
            $"variable '{head}' has no value for this node: set it, or give one with {{{{ {head} | default \"TEXT\" }}}}");
    }

    private static bool TryLiteral(string text, out string? value)
    {
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"' && text.IndexOf('"', 1) == text.Length - 1)
        {
            value = text[1..^1];
            return true;
        }

        value = null;
        return false;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string source, string text, int at, string why) =>
        throw new OverrideException($"{source}:{LineOf(text, at)}: {why}");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static T Fail<T>(string source, string text, int at, string why) =>
        throw new OverrideException($"{source}:{LineOf(text, at)}: {why}");
}
