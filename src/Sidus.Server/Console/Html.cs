using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Sidus.Server.WebConsole;

/// <summary>Markup known to be safe (written by the console itself, or already encoded): passed through as is.</summary>
public readonly record struct Markup(string Value)
{
    public static readonly Markup Empty = new(string.Empty);

    public override string ToString() => Value;
}

/// <summary>
/// A page being written. Every hole of an interpolated string added here is HTML-encoded unless it is
/// <see cref="Markup"/>: node names, event text and tags came from users or the network, and the safe way is the
/// default one. Only text, numbers and markup have holes; anything else does not compile, so nothing reaches the page
/// through a ToString that skips the encoder.
/// </summary>
public sealed class Html
{
    /// <summary>Encodes &lt; &gt; &amp; quotes and the like, and leaves letters of every script readable.</summary>
    public static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private readonly StringBuilder _text = new();

    public Html Add([InterpolatedStringHandlerArgument("")] HtmlHandler part)
    {
        _ = part;
        return this;
    }

    public Html Add(Markup markup)
    {
        _text.Append(markup.Value);
        return this;
    }

    public Markup ToMarkup() => new(_text.ToString());

    public override string ToString() => _text.ToString();

    /// <summary>TEXT encoded for an element or a quoted attribute.</summary>
    public static Markup Text(string? text) => new(Encoder.Encode(text ?? string.Empty));

    /// <summary>Markup made from an interpolated string whose holes are encoded like <see cref="Add(HtmlHandler)"/>'s.</summary>
    public static Markup Of(HtmlFragment fragment) => fragment.ToMarkup();

    internal StringBuilder Builder => _text;
}

/// <summary>Writes an interpolated string into an <see cref="Html"/>: literals as they are, holes encoded.</summary>
[InterpolatedStringHandler]
public readonly ref struct HtmlHandler
{
    private readonly StringBuilder _text;

    public HtmlHandler(int literalLength, int formattedCount, Html html)
    {
        ArgumentNullException.ThrowIfNull(html);
        _ = formattedCount;
        _text = html.Builder;
        _text.EnsureCapacity(_text.Length + literalLength);
    }

    public void AppendLiteral(string literal) => _text.Append(literal);

    public void AppendFormatted(string? text) => _text.Append(Html.Encoder.Encode(text ?? string.Empty));

    public void AppendFormatted(Markup markup) => _text.Append(markup.Value);

    public void AppendFormatted(long number) => _text.Append(number.ToString(CultureInfo.InvariantCulture));

    public void AppendFormatted(double number, string format) => _text.Append(number.ToString(format, CultureInfo.InvariantCulture));
}

/// <summary>An interpolated string made into <see cref="Markup"/>, holes encoded (for <see cref="Html.Of"/>).</summary>
[InterpolatedStringHandler]
public readonly ref struct HtmlFragment
{
    private readonly Html _html;
    private readonly HtmlHandler _handler;

    public HtmlFragment(int literalLength, int formattedCount)
    {
        _html = new Html();
        _handler = new HtmlHandler(literalLength, formattedCount, _html);
    }

    public void AppendLiteral(string literal) => _handler.AppendLiteral(literal);

    public void AppendFormatted(string? text) => _handler.AppendFormatted(text);

    public void AppendFormatted(Markup markup) => _handler.AppendFormatted(markup);

    public void AppendFormatted(long number) => _handler.AppendFormatted(number);

    public void AppendFormatted(double number, string format) => _handler.AppendFormatted(number, format);

    internal Markup ToMarkup() => _html.ToMarkup();
}
