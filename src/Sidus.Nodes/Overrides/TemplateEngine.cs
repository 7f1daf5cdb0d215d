namespace Sidus.Nodes.Overrides;

/// <summary>
/// The override template syntax, deliberately small:
/// <list type="bullet">
/// <item><c>{{ node.name }}</c> is replaced by the variable's value; <c>{{ tag.nfs | default "10.0.0.1" }}</c>
/// gives a value for a variable that is known but not set for this node; <c>{{ "{{" }}</c> writes a literal.</item>
/// <item><c>{{ if COND }}</c> … <c>{{ else if COND }}</c> … <c>{{ else }}</c> … <c>{{ end }}</c>: a condition is
/// a variable (true when set and not empty), <c>not</c> one, or a comparison with <c>==</c> / <c>!=</c>, joined by
/// <c>and</c> / <c>or</c> (and first).</item>
/// <item><c>{{ for n in nodes }}</c> … <c>{{ n.name }}</c> … <c>{{ end }}</c> walks a list of records;
/// <c>{{ for mac in node.macs }}</c> walks the words of a variable.</item>
/// </list>
/// An unknown variable (also inside a condition), a known one with no value and no default, or a malformed tag is
/// an <see cref="OverrideException"/> naming the file and line: a template never renders an empty string, or takes
/// a branch, because of a typo.
/// </summary>
public static class TemplateEngine
{
    public const string Open = "{{";
    public const string Close = "}}";

    /// <summary>Most characters one template may render: loops over every node must not make a runaway file.</summary>
    public const int MaxOutputChars = (int)(OverrideTree.MaxFileBytes / 2);

    /// <summary>
    /// Renders <paramref name="text"/>. <paramref name="variables"/> maps every known name to its value, null when
    /// the name is known but has no value for this node.
    /// </summary>
    public static string Render(string text, IReadOnlyDictionary<string, string?> variables, string source) =>
        Render(text, TemplateValues.Of(variables), source);

    /// <summary>Renders <paramref name="text"/> with scalars and lists.</summary>
    public static string Render(string text, TemplateValues values, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(values);
        var parts = TemplateSyntax.Parse(text, source);
        var writer = new TemplateWriter(text, values, source);
        writer.Write(parts, new Dictionary<string, object>(StringComparer.Ordinal));
        return writer.Result;
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
}
