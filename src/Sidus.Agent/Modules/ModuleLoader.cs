namespace Sidus.Agent.Modules;

/// <summary>
/// Loads the drivers this machine needs from the initramfs's /lib/modules/RELEASE: every module whose
/// modules.alias pattern matches a device's modalias (PCI, virtio, ...), its dependencies first, repeated until
/// no new device appears (a bus driver brings the devices of the next pass).
/// </summary>
internal sealed class ModuleLoader
{
    private const int MaxPasses = 6;
    private readonly string _root;
    private readonly Dictionary<string, string> _pathByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _deps = new(StringComparer.Ordinal);
    private readonly List<(string Pattern, string Module)> _aliases = [];
    private readonly HashSet<string> _loaded = new(StringComparer.Ordinal);

    /// <param name="under">Another root whose /lib/modules to load from (an image holds every module of its kernel).</param>
    public ModuleLoader(string release, string under = "")
    {
        _root = under + "/lib/modules/" + release;
        foreach (var line in ReadLines(_root + "/modules.dep"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                var path = line[..colon];
                _deps[path] = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                _pathByName[NameOf(path)] = path;
            }
        }

        foreach (var line in ReadLines(_root + "/modules.alias"))
        {
            if (line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["alias", var pattern, var module])
            {
                _aliases.Add((pattern, module));
            }
        }
    }

    public IReadOnlyCollection<string> Loaded => _loaded;

    /// <summary>Loads drivers for the devices present; returns the names of the modules loaded.</summary>
    public List<string> LoadForDevices()
    {
        var loaded = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var pass = 0; pass < MaxPasses; pass++)
        {
            var fresh = DeviceAliases().Where(seen.Add).ToList();
            if (fresh.Count == 0)
            {
                break;
            }

            foreach (var alias in fresh)
            {
                foreach (var (pattern, module) in _aliases)
                {
                    if (Glob.Matches(pattern, alias) && LoadByName(module))
                    {
                        loaded.Add(module);
                    }
                }
            }
        }

        return loaded;
    }

    /// <summary>Loads MODULE and its dependencies; false when it is unknown here or already loaded.</summary>
    public bool LoadByName(string module)
    {
        if (!_pathByName.TryGetValue(module.Replace('-', '_'), out var path) || _loaded.Contains(path))
        {
            return false;
        }

        foreach (var dep in _deps[path].Reverse())
        {
            LoadPath(dep);
        }

        LoadPath(path);
        return true;
    }

    private void LoadPath(string path)
    {
        if (!_loaded.Add(path))
        {
            return;
        }

        try
        {
            KernelModules.Load(_root + "/" + path);
        }
        catch (LinuxException e)
        {
            AgentConsole.Fail($"loading {NameOf(path)}: {e.Message}");
        }
    }

    private static IEnumerable<string> DeviceAliases()
    {
        if (!Directory.Exists("/sys/bus"))
        {
            yield break;
        }

        foreach (var bus in Directory.EnumerateDirectories("/sys/bus"))
        {
            var devices = Path.Combine(bus, "devices");
            if (!Directory.Exists(devices))
            {
                continue;
            }

            foreach (var device in Directory.EnumerateFileSystemEntries(devices))
            {
                var file = Path.Combine(device, "modalias");
                if (File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } alias)
                {
                    yield return alias;
                }
            }
        }
    }

    private static IEnumerable<string> ReadLines(string path) => File.Exists(path) ? File.ReadLines(path) : [];

    private static string NameOf(string path)
    {
        var file = path[(path.LastIndexOf('/') + 1)..];
        var ko = file.IndexOf(".ko", StringComparison.Ordinal);
        return (ko >= 0 ? file[..ko] : file).Replace('-', '_');
    }
}
