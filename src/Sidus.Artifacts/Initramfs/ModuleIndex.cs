namespace Sidus.Artifacts.Initramfs;

/// <summary>
/// A kernel's module database as depmod writes it: modules.dep ("kernel/a/b.ko: kernel/c.ko ...", paths relative
/// to /lib/modules/RELEASE) and modules.alias ("alias PATTERN module_name").
/// </summary>
public sealed class ModuleIndex
{
    private readonly Dictionary<string, string> _pathByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _depsByPath = new(StringComparer.Ordinal);
    private readonly List<(string Pattern, string Module)> _aliases = [];

    public IReadOnlyCollection<string> Paths => _depsByPath.Keys;

    public IReadOnlyList<(string Pattern, string Module)> Aliases => _aliases;

    public static ModuleIndex Parse(string modulesDep, string modulesAlias)
    {
        var index = new ModuleIndex();
        foreach (var raw in modulesDep.Split('\n'))
        {
            var colon = raw.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var path = raw[..colon].Trim();
            var deps = raw[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            index._depsByPath[path] = deps;
            index._pathByName[NameOf(path)] = path;
        }

        foreach (var raw in modulesAlias.Split('\n'))
        {
            var parts = raw.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts is ["alias", var pattern, var module])
            {
                index._aliases.Add((pattern, module));
            }
        }

        return index;
    }

    /// <summary>The module name of a path: its file name without .ko[.xz|.zst|.gz], '-' read as '_' (as modprobe does).</summary>
    public static string NameOf(string path)
    {
        var file = path[(path.LastIndexOf('/') + 1)..];
        var ko = file.IndexOf(".ko", StringComparison.Ordinal);
        return (ko >= 0 ? file[..ko] : file).Replace('-', '_');
    }

    public string? PathOf(string name) => _pathByName.GetValueOrDefault(name.Replace('-', '_'));

    /// <summary>PATHS with every dependency, dependencies first (the order to load them in).</summary>
    public List<string> WithDependencies(IEnumerable<string> paths)
    {
        var ordered = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            Visit(path, ordered, seen);
        }

        return ordered;
    }

    public IReadOnlyList<string> DependenciesOf(string path) => _depsByPath.GetValueOrDefault(path) ?? [];

    private void Visit(string path, List<string> ordered, HashSet<string> seen)
    {
        if (!seen.Add(path))
        {
            return;
        }

        // modules.dep lists the full closure already; visiting recursively also orders it.
        foreach (var dep in DependenciesOf(path))
        {
            Visit(dep, ordered, seen);
        }

        ordered.Add(path);
    }
}
