namespace Sidus.Agent.Boot;

/// <summary>
/// What the agent connected for the shared root, kept in /run/sidus/nbd (KEY=VALUE lines) for the watcher
/// (<see cref="NbdWatch"/>): the device index, the NBD server and export, the export's size (a reconnection must
/// find the same size), the local TCP port of the live connection (to see it in /proc/net/tcp) and the boot MAC
/// (the events' node). The watcher rewrites it after each reconnection.
/// </summary>
internal sealed record NbdState(int Index, IPEndPoint Server, string Export, ulong Size, int LocalPort, string Mac)
{
    public const string DefaultPath = "/run/sidus/nbd";

    public string Format() => new StringBuilder()
        .Append("index=").Append(Index.ToString(CultureInfo.InvariantCulture)).Append('\n')
        .Append("server=").Append(Server).Append('\n')
        .Append("export=").Append(Export).Append('\n')
        .Append("size=").Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
        .Append("local-port=").Append(LocalPort.ToString(CultureInfo.InvariantCulture)).Append('\n')
        .Append("mac=").Append(Mac).Append('\n')
        .ToString();

    /// <summary>The state in TEXT; a missing or malformed key is invalid data (the file is ours: nobody else writes it).</summary>
    public static NbdState Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[line[..eq]] = line[(eq + 1)..];
            }
        }

        string Get(string key) => values.TryGetValue(key, out var v) && v.Length > 0 ? v : throw new InvalidDataException($"{DefaultPath} has no {key}=");
        if (!int.TryParse(Get("index"), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ||
            !IPEndPoint.TryParse(Get("server"), out var server) ||
            !ulong.TryParse(Get("size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ||
            !int.TryParse(Get("local-port"), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
        {
            throw new InvalidDataException($"{DefaultPath} is malformed: {text.ReplaceLineEndings(" ")}");
        }

        return new NbdState(index, server, Get("export"), size, port, Get("mac"));
    }

    /// <summary>Written beside and renamed into place: the watcher never reads half a file.</summary>
    public void Write(string path = DefaultPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteText(path, Format());
    }
}
