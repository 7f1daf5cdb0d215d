namespace Sidus.Nodes.Overrides;

/// <summary>A piece of a parsed template. <c>At</c> is the index in the template text, for "file:line" errors.</summary>
internal abstract record TemplatePart(int At);

internal sealed record TextPart(string Text, int At) : TemplatePart(At);

/// <summary><c>{{ EXPRESSION }}</c>: a variable, a literal, optionally <c>| default "TEXT"</c>.</summary>
internal sealed record OutputPart(string Expression, int At) : TemplatePart(At);

/// <summary><c>{{ if }}</c> … <c>{{ else if }}</c> … <c>{{ else }}</c> … <c>{{ end }}</c>; the else's condition is null.</summary>
internal sealed record IfPart(IReadOnlyList<(string? Condition, int At, IReadOnlyList<TemplatePart> Body)> Branches, int At)
    : TemplatePart(At);

/// <summary><c>{{ for NAME in SOURCE }}</c> … <c>{{ end }}</c>.</summary>
internal sealed record ForPart(string Name, string Source, IReadOnlyList<TemplatePart> Body, int At) : TemplatePart(At);

/// <summary>
/// Parses template text into parts. A tag is <c>{{ … }}</c> on one line. A control tag (if, else, end, for) alone on
/// its line takes the whole line with it, so a config file gets no blank lines from its logic.
/// </summary>
internal sealed class TemplateSyntax
{
    private readonly string _text;
    private readonly string _source;
    private readonly List<(string Kind, string Args, int At, string? Text)> _tokens = [];
    private int _next;

    private TemplateSyntax(string text, string source)
    {
        _text = text;
        _source = source;
    }

    public static IReadOnlyList<TemplatePart> Parse(string text, string source)
    {
        var syntax = new TemplateSyntax(text, source);
        syntax.Tokenize();
        var parts = syntax.Block(out var stop);
        if (stop is { } s)
        {
            syntax.Fail(s.At, $"'{{{{ {s.Kind} }}}}' without an open '{{{{ if }}}}' or '{{{{ for }}}}'");
        }

        return parts;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Fail(string source, string text, int at, string why) =>
        throw new OverrideException($"{source}:{TemplateEngine.LineOf(text, at)}: {why}");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(int at, string why) => Fail(_source, _text, at, why);

    private void Tokenize()
    {
        var at = 0;
        var pendingText = new StringBuilder();
        var pendingAt = 0;
        void FlushText()
        {
            if (pendingText.Length > 0)
            {
                _tokens.Add(("text", string.Empty, pendingAt, pendingText.ToString()));
                pendingText.Clear();
            }
        }

        while (at < _text.Length)
        {
            var open = _text.IndexOf(TemplateEngine.Open, at, StringComparison.Ordinal);
            if (open < 0)
            {
                if (pendingText.Length == 0)
                {
                    pendingAt = at;
                }

                pendingText.Append(_text, at, _text.Length - at);
                break;
            }

            var close = FindClose(open + TemplateEngine.Open.Length);
            if (close < 0)
            {
                Fail(open, "'{{' is not closed by '}}' on the same line");
            }

            var inner = _text[(open + TemplateEngine.Open.Length)..close].Trim();
            var end = close + TemplateEngine.Close.Length;
            var (kind, rest) = Classify(inner);
            var before = _text[at..open];
            if (kind != "output" && AloneOnLine(open, end, out var lineStart, out var afterLine))
            {
                before = _text[at..Math.Max(at, lineStart)];
                end = afterLine;
            }

            if (before.Length > 0)
            {
                if (pendingText.Length == 0)
                {
                    pendingAt = at;
                }

                pendingText.Append(before);
            }

            FlushText();
            _tokens.Add((kind, kind == "output" ? inner : rest, open, null));
            at = end;
        }

        FlushText();
    }

    private static (string Kind, string Args) Classify(string inner)
    {
        var space = inner.IndexOfAny([' ', '\t']);
        var first = space < 0 ? inner : inner[..space];
        var rest = space < 0 ? string.Empty : inner[(space + 1)..].Trim();
        return first switch
        {
            "if" or "else" or "end" or "for" => (first, rest),
            _ => ("output", rest),
        };
    }

    /// <summary>True when only blanks surround [open, end) on its line; gives the line's start and the next line's.</summary>
    private bool AloneOnLine(int open, int end, out int lineStart, out int nextLine)
    {
        lineStart = open;
        while (lineStart > 0 && _text[lineStart - 1] is ' ' or '\t')
        {
            lineStart--;
        }

        nextLine = end;
        while (nextLine < _text.Length && _text[nextLine] is ' ' or '\t')
        {
            nextLine++;
        }

        var startsLine = lineStart == 0 || _text[lineStart - 1] == '\n';
        var endsLine = nextLine == _text.Length || _text[nextLine] == '\n';
        if (nextLine < _text.Length)
        {
            nextLine++;
        }

        return startsLine && endsLine;
    }

    /// <summary>Parts up to the end of the text or the next else/end, which it gives in <paramref name="stop"/>.</summary>
    private List<TemplatePart> Block(out (string Kind, string Args, int At)? stop)
    {
        var parts = new List<TemplatePart>();
        while (_next < _tokens.Count)
        {
            var (kind, rest, at, text) = _tokens[_next++];
            switch (kind)
            {
                case "text":
                    parts.Add(new TextPart(text!, at));
                    break;
                case "output":
                    parts.Add(new OutputPart(rest, at));
                    break;
                case "if":
                    parts.Add(If(rest, at));
                    break;
                case "for":
                    parts.Add(For(rest, at));
                    break;
                default:
                    stop = (kind, rest, at);
                    return parts;
            }
        }

        stop = null;
        return parts;
    }

    private IfPart If(string condition, int at)
    {
        var branches = new List<(string?, int, IReadOnlyList<TemplatePart>)>();
        var current = RequireCondition(condition, at, "if");
        var currentAt = at;
        while (true)
        {
            var body = Block(out var stop);
            branches.Add((current, currentAt, body));
            if (stop is null)
            {
                Fail(at, "'{{ if }}' is not closed by '{{ end }}'");
            }

            var (kind, rest, stopAt) = stop.Value;
            if (kind == "end")
            {
                RequireEmpty(rest, stopAt, "end");
                return new IfPart(branches, at);
            }

            if (kind != "else")
            {
                Fail(stopAt, $"'{{{{ {kind} }}}}' inside '{{{{ if }}}}'");
            }

            if (current is null)
            {
                Fail(stopAt, "'{{ else }}' after '{{ else }}': write '{{ end }}' first");
            }

            if (rest.Length == 0)
            {
                current = null;
            }
            else if (rest.StartsWith("if ", StringComparison.Ordinal) || rest.StartsWith("if\t", StringComparison.Ordinal))
            {
                current = RequireCondition(rest[2..].Trim(), stopAt, "else if");
            }
            else
            {
                Fail(stopAt, $"'{{{{ else {rest} }}}}': write '{{{{ else }}}}' or '{{{{ else if CONDITION }}}}'");
            }

            currentAt = stopAt;
        }
    }

    private ForPart For(string header, int at)
    {
        var words = header.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 3 || words[1] != "in")
        {
            Fail(at, $"'{{{{ for {header} }}}}': write '{{{{ for NAME in LIST }}}}', like {{{{ for n in nodes }}}}");
        }

        var body = Block(out var stop);
        if (stop is null)
        {
            Fail(at, "'{{ for }}' is not closed by '{{ end }}'");
        }

        var (kind, args, stopAt) = stop.Value;
        if (kind != "end")
        {
            Fail(stopAt, $"'{{{{ {kind} }}}}' inside '{{{{ for }}}}'");
        }

        RequireEmpty(args, stopAt, "end");
        return new ForPart(words[0], words[2], body, at);
    }

    private string RequireCondition(string condition, int at, string tag) =>
        condition.Length > 0 ? condition : Fail<string>(at, $"'{{{{ {tag} }}}}' needs a condition, like {{{{ {tag} tag.gpu }}}}");

    private void RequireEmpty(string rest, int at, string tag)
    {
        if (rest.Length > 0)
        {
            Fail(at, $"'{{{{ {tag} {rest} }}}}': '{tag}' takes nothing after it");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private T Fail<T>(int at, string why) => throw new OverrideException($"{_source}:{TemplateEngine.LineOf(_text, at)}: {why}");

    /// <summary>The matching "}}" on the same line, skipping quoted strings; -1 when there is none.</summary>
    private int FindClose(int from)
    {
        var quoted = false;
        for (var i = from; i < _text.Length; i++)
        {
            var c = _text[i];
            if (c == '\n')
            {
                return -1;
            }

            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && c == '}' && i + 1 < _text.Length && _text[i + 1] == '}')
            {
                return i;
            }
        }

        return -1;
    }
}
