namespace Sidus.Cli.Rendering;

/// <summary>
/// Every table the CLI prints. Plain style: one row per line, cells separated by a tab (awk -F'\t', cut -f), never
/// cut. Terminal style: columns aligned with two spaces between them; when the table is wider than the terminal the
/// widest columns are cut with '…' (a value is never wrapped onto a second line). An empty cell is '-' so that
/// every row has the same number of fields.
/// </summary>
public sealed class TextTable
{
    private const string Gap = "  ";
    private const int NarrowestCut = 6;
    private readonly string[] _columns;
    private readonly List<string[]> _rows = [];

    public TextTable(params string[] columns) => _columns = columns;

    public int Count => _rows.Count;

    public TextTable AddRow(params string?[] cells)
    {
        if (cells.Length != _columns.Length)
        {
            throw new ArgumentException($"a row of {_columns.Length} cells was expected, {cells.Length} given", nameof(cells));
        }

        _rows.Add([.. cells.Select(Cell)]);
        return this;
    }

    public void Write() => Write(Console.Out, OutputStyle.Current);

    public void Write(TextWriter writer, OutputStyle style)
    {
        var lines = style.Headers ? _rows.Prepend(_columns) : _rows;
        if (style.Plain)
        {
            foreach (var row in lines)
            {
                writer.WriteLine(string.Join('\t', row));
            }

            return;
        }

        var widths = Fit(Widths(), style.Width);
        foreach (var row in lines)
        {
            var text = new StringBuilder();
            for (var i = 0; i < row.Length; i++)
            {
                var cell = Cut(row[i], widths[i]);
                text.Append(i == row.Length - 1 ? cell : cell.PadRight(widths[i]) + Gap);
            }

            writer.WriteLine(text.ToString().TrimEnd());
        }
    }

    /// <summary>A value on one line: tabs and line breaks would split a row or a field.</summary>
    private static string Cell(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "-";
        }

        var text = new StringBuilder(value.Length);
        foreach (var c in value.Trim())
        {
            text.Append(char.IsControl(c) ? ' ' : c);
        }

        return text.ToString();
    }

    private int[] Widths()
    {
        var widths = _columns.Select(c => c.Length).ToArray();
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        return widths;
    }

    /// <summary>Narrows the widest column one character at a time until the table fits or no column can give more.</summary>
    private static int[] Fit(int[] widths, int available)
    {
        while (widths.Sum() + (Gap.Length * (widths.Length - 1)) > available)
        {
            var widest = Array.IndexOf(widths, widths.Max());
            if (widths[widest] <= NarrowestCut)
            {
                break;
            }

            widths[widest]--;
        }

        return widths;
    }

    private static string Cut(string value, int width) => value.Length <= width ? value : value[..(width - 1)] + "…";
}
