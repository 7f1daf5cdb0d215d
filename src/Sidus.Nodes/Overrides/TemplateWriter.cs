namespace Sidus.Nodes.Overrides;

/// <summary>
/// Writes parsed template parts with their values. Loop names are locals: a word (<c>{{ for m in node.macs }}</c>)
/// or a record (<c>{{ for n in nodes }}</c>, read as <c>n.name</c>). Every name in a condition is looked up, taken
/// branch or not, so a typo fails the render instead of quietly choosing the other branch.
/// </summary>
internal sealed class TemplateWriter(string text, TemplateValues values, string source)
{
    private const string DefaultFilter = "default";
    private readonly StringBuilder _out = new();

    public string Result => _out.ToString();

    public void Write(IReadOnlyList<TemplatePart> parts, Dictionary<string, object> locals)
    {
        foreach (var part in parts)
        {
            switch (part)
            {
                case TextPart t:
                    Append(t.Text, t.At);
                    break;
                case OutputPart o:
                    Append(Output(o.Expression, o.At, locals), o.At);
                    break;
                case IfPart i:
                    WriteIf(i, locals);
                    break;
                case ForPart f:
                    WriteFor(f, locals);
                    break;
            }
        }
    }

    private void WriteIf(IfPart part, Dictionary<string, object> locals)
    {
        IReadOnlyList<TemplatePart>? chosen = null;
        foreach (var (condition, at, body) in part.Branches)
        {
            var holds = condition is null || Condition(condition, at, locals);
            if (holds && chosen is null)
            {
                chosen = body;
            }
        }

        if (chosen is not null)
        {
            Write(chosen, locals);
        }
    }

    private void WriteFor(ForPart part, Dictionary<string, object> locals)
    {
        var name = part.Name;
        if (!IsLoopName(name))
        {
            Fail(part.At, $"'{name}' cannot name a loop item: use lower-case letters, digits and '_', not a variable's first word");
        }

        if (locals.ContainsKey(name))
        {
            Fail(part.At, $"'{name}' already names an outer loop's item");
        }

        IEnumerable<object> items = values.Lists.TryGetValue(part.Source, out var records)
            ? records
            : (Lookup(part.Source, part.At, locals) ?? string.Empty).Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        foreach (var item in items)
        {
            locals[name] = item;
            Write(part.Body, locals);
        }

        locals.Remove(name);
    }

    private bool IsLoopName(string name) =>
        name.Length > 0 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') && name[0] is not (>= '0' and <= '9') &&
        !values.Lists.ContainsKey(name) &&
        !values.Scalars.Keys.Any(k => k == name || k.StartsWith(name + ".", StringComparison.Ordinal));

    private string Output(string expression, int at, Dictionary<string, object> locals)
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
                Fail(at, $"'{filter}' is not a filter: the only one is default \"TEXT\"");
            }
        }

        if (head.Length == 0)
        {
            Fail(at, "empty '{{ }}': write a variable name, like {{ node.name }}");
        }

        if (TryLiteral(head, out var literal))
        {
            return literal!;
        }

        return Lookup(head, at, locals) ?? fallback ?? Fail<string>(at,
            $"variable '{head}' has no value for this node: set it, or give one with {{{{ {head} | default \"TEXT\" }}}}");
    }

    /// <summary>A condition: <c>or</c> of <c>and</c> of [<c>not</c>] OPERAND [(== | !=) OPERAND].</summary>
    private bool Condition(string condition, int at, Dictionary<string, object> locals)
    {
        var words = Words(condition, at);
        var any = false;
        foreach (var alternative in Split(words, "or", at))
        {
            var all = true;
            foreach (var term in Split(alternative, "and", at))
            {
                all &= Term(term, at, locals);
            }

            any |= all;
        }

        return any;
    }

    private bool Term(List<string> words, int at, Dictionary<string, object> locals)
    {
        var negate = false;
        var i = 0;
        while (i < words.Count && words[i] == "not")
        {
            negate = !negate;
            i++;
        }

        var rest = words[i..];
        bool value;
        if (rest.Count == 1)
        {
            value = !string.IsNullOrEmpty(Operand(rest[0], at, locals));
        }
        else if (rest.Count == 3 && rest[1] is "==" or "!=")
        {
            var equal = string.Equals(Operand(rest[0], at, locals) ?? string.Empty, Operand(rest[2], at, locals) ?? string.Empty, StringComparison.Ordinal);
            value = rest[1] == "==" ? equal : !equal;
        }
        else
        {
            value = Fail<bool>(at, $"'{string.Join(' ', words)}' is not a condition: write NAME, not NAME, or NAME == \"TEXT\" (also !=), joined by and / or");
        }

        return negate ? !value : value;
    }

    private string? Operand(string word, int at, Dictionary<string, object> locals) =>
        TryLiteral(word, out var literal) ? literal : Lookup(word, at, locals);

    private List<List<string>> Split(List<string> words, string by, int at)
    {
        var groups = new List<List<string>> { new() };
        foreach (var w in words)
        {
            if (w == by)
            {
                groups.Add([]);
            }
            else
            {
                groups[^1].Add(w);
            }
        }

        if (groups.Any(g => g.Count == 0))
        {
            Fail(at, $"'{by}' needs a condition on each side");
        }

        return groups;
    }

    /// <summary>The words of a condition; a quoted literal is one word, quotes kept.</summary>
    private List<string> Words(string condition, int at)
    {
        var words = new List<string>();
        var i = 0;
        while (i < condition.Length)
        {
            if (char.IsWhiteSpace(condition[i]))
            {
                i++;
                continue;
            }

            var start = i;
            if (condition[i] == '"')
            {
                var close = condition.IndexOf('"', i + 1);
                if (close < 0)
                {
                    Fail(at, "a quoted text in the condition is not closed");
                }

                i = close + 1;
            }
            else
            {
                while (i < condition.Length && !char.IsWhiteSpace(condition[i]))
                {
                    i++;
                }
            }

            words.Add(condition[start..i]);
        }

        return words;
    }

    private string? Lookup(string name, int at, Dictionary<string, object> locals)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var first = dot < 0 ? name : name[..dot];
        if (locals.TryGetValue(first, out var item))
        {
            switch (item)
            {
                case string word when dot < 0:
                    return word;
                case IReadOnlyDictionary<string, string?> record when dot > 0:
                    var field = name[(dot + 1)..];
                    return record.TryGetValue(field, out var v)
                        ? v
                        : Fail<string>(at, $"'{first}' has no field '{field}' (fields: {string.Join(", ", record.Keys.Order(StringComparer.Ordinal))})");
                case string:
                    return Fail<string>(at, $"'{first}' is a word of a list and has no fields: write {{{{ {first} }}}}");
                default:
                    return Fail<string>(at, $"'{first}' is a record: name one of its fields, like {{{{ {first}.name }}}}");
            }
        }

        if (values.Scalars.TryGetValue(name, out var value))
        {
            return value;
        }

        var loops = locals.Count == 0 ? string.Empty : $"; loop items: {string.Join(", ", locals.Keys.Order(StringComparer.Ordinal))}";
        return Fail<string>(at, $"unknown variable '{name}' (known here: {values.KnownNames()}{loops})");
    }

    private void Append(string piece, int at)
    {
        if (_out.Length + piece.Length > TemplateEngine.MaxOutputChars)
        {
            Fail(at, $"renders to more than {TemplateEngine.MaxOutputChars} characters: check the loops");
        }

        _out.Append(piece);
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
    private void Fail(int at, string why) => TemplateSyntax.Fail(source, text, at, why);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private T Fail<T>(int at, string why) => throw new OverrideException($"{source}:{TemplateEngine.LineOf(text, at)}: {why}");
}
