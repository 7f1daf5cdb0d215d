using Sidus.Linux;

namespace Sidus.Nodes.Overrides;

/// <summary>
/// Reads one level's directory tree (global, a group's, a node's). Every regular file, symlink and directory becomes
/// an entry at the same relative path; <c>NAME.tmpl</c> files are templates rendered to <c>NAME</c>. Modes and owners
/// are the files' own, unless the level's <c>.sidus-meta</c> says otherwise: one line per path,
/// <c>PATH MODE [UID [GID]]</c> (octal mode, numeric ids, '#' comments), PATH as installed (without .tmpl). Symlinks
/// are kept as symlinks and never followed; other file types are refused.
/// </summary>
public static class OverrideTree
{
    public const string TemplateSuffix = ".tmpl";
    public const string MetaFile = ".sidus-meta";

    /// <summary>Largest file taken from a tree: overrides are configuration, not payloads.</summary>
    public const long MaxFileBytes = 16L << 20;

    /// <summary>Most entries one level may hold.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>Deepest directory nesting followed.</summary>
    public const int MaxDepth = 32;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
    private static readonly Comparer<byte[]> NameOrder = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    /// <summary>The entries of the tree at <paramref name="root"/> (none when it does not exist), templates rendered.</summary>
    public static List<OverrideFile> Read(string root, string origin, TemplateValues variables)
    {
        ArgumentNullException.ThrowIfNull(root);
        var result = new List<OverrideFile>();
        if (!Directory.Exists(root))
        {
            return result;
        }

        using var dir = DirectoryHandle.Open(root);
        Walk(dir, root, string.Empty, origin, variables, result, 0);
        var meta = Path.Combine(root, MetaFile);
        return File.Exists(meta) ? ApplyMeta(result, meta) : result;
    }

    private static void Walk(DirectoryHandle dir, string root, string prefix, string origin, TemplateValues variables, List<OverrideFile> into, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new OverrideException($"{Path.Combine(root, prefix)}: directories nested deeper than {MaxDepth}");
        }

        foreach (var entry in dir.ReadEntries().OrderBy(e => e.Name, NameOrder))
        {
            string name;
            try
            {
                name = StrictUtf8.GetString(entry.Name);
            }
            catch (DecoderFallbackException)
            {
                throw new OverrideException($"{Path.Combine(root, prefix)}: a file name there is not UTF-8; rename it");
            }

            if (depth == 0 && name == MetaFile)
            {
                continue;
            }

            var relative = prefix.Length == 0 ? name : prefix + "/" + name;
            var source = Path.Combine(root, relative);
            if (into.Count >= MaxEntries)
            {
                throw new OverrideException($"{root}: more than {MaxEntries} entries");
            }

            var st = dir.Stat(entry.Name);
            switch (st.Kind)
            {
                case FileKind.Directory:
                    into.Add(new OverrideFile(relative, OverrideKind.Directory, [], st.Permissions, st.Uid, st.Gid, origin, Source: source));
                    using (var child = dir.OpenChild(entry.Name))
                    {
                        Walk(child, root, relative, origin, variables, into, depth + 1);
                    }

                    break;
                case FileKind.Symlink:
                    into.Add(new OverrideFile(relative, OverrideKind.Symlink, [], 0x1FF, st.Uid, st.Gid, origin,
                        LinkTarget: StrictUtf8.GetString(dir.ReadLink(entry.Name)), Source: source));
                    break;
                case FileKind.Regular:
                    if (st.Size > MaxFileBytes)
                    {
                        throw new OverrideException($"{source}: {st.Size} bytes; an override file is at most {MaxFileBytes}");
                    }

                    byte[] content;
                    using (var handle = dir.OpenRead(entry.Name))
                    using (var stream = new FileStream(handle, FileAccess.Read))
                    using (var buffer = new MemoryStream())
                    {
                        stream.CopyTo(buffer);
                        content = buffer.ToArray();
                    }

                    if (relative.EndsWith(TemplateSuffix, StringComparison.Ordinal) && name.Length > TemplateSuffix.Length)
                    {
                        string text;
                        try
                        {
                            text = StrictUtf8.GetString(content);
                        }
                        catch (DecoderFallbackException)
                        {
                            throw new OverrideException($"{source}: a template must be UTF-8 text");
                        }

                        content = Encoding.UTF8.GetBytes(TemplateEngine.Render(text, variables, source));
                        relative = relative[..^TemplateSuffix.Length];
                    }

                    into.Add(new OverrideFile(relative, OverrideKind.File, content, st.Permissions, st.Uid, st.Gid, origin, Source: source));
                    break;
                default:
                    throw new OverrideException($"{source}: a {st.Kind} cannot be an override (files, directories and symlinks only)");
            }
        }
    }

    private static List<OverrideFile> ApplyMeta(List<OverrideFile> files, string metaPath)
    {
        var byPath = files.Select((f, i) => (f.Path, i)).ToDictionary(x => x.Path, x => x.i, StringComparer.Ordinal);
        var lines = File.ReadAllLines(metaPath);
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var where = $"{metaPath}:{n + 1}";
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length is < 2 or > 4)
            {
                throw new OverrideException($"{where}: expected 'PATH MODE [UID [GID]]', got '{line}'");
            }

            var path = words[0].TrimStart('/');
            if (!byPath.TryGetValue(path, out var index))
            {
                throw new OverrideException($"{where}: '{path}' names no file of this level (paths are as installed, without {TemplateSuffix})");
            }

            var file = files[index];
            files[index] = file with
            {
                Mode = ParseNumber(words[1], 8, OverrideFile.PermissionMask, where, "mode"),
                Uid = words.Length > 2 ? ParseNumber(words[2], 10, uint.MaxValue - 1, where, "uid") : file.Uid,
                Gid = words.Length > 3 ? ParseNumber(words[3], 10, uint.MaxValue - 1, where, "gid") : file.Gid,
            };
        }

        return files;
    }

    private static uint ParseNumber(string text, int radix, uint max, string where, string what)
    {
        uint value;
        try
        {
            value = Convert.ToUInt32(text, radix);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new OverrideException($"{where}: '{text}' is not a {what} ({(radix == 8 ? "octal, like 0644" : "a number")})");
        }

        return value <= max ? value : throw new OverrideException($"{where}: {what} {text.ToString(CultureInfo.InvariantCulture)} is out of range");
    }
}
