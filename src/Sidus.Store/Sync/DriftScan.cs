using Sidus.Store.Checkout;

namespace Sidus.Store.Sync;

/// <summary>
/// A target walked against the state cache of the sync that left it, before anything changes: names that sync did
/// not leave are added (their contents not listed), records whose stat moved are modified or changed in metadata
/// only, records no longer there are removed (the topmost only); each is named to
/// <see cref="CheckoutOptions.OnDrift"/>. Excluded paths and other filesystems are not looked into. Directories are
/// reported through their names: their own mtime moves with every name added or removed.
/// What it found in each directory (names, statuses, open handles) stays for a sync of the same target
/// (<see cref="CheckoutOptions.Scan"/>), which then lists, stats and opens nothing a second time; it needs no tree,
/// so an update runs it while the version's manifest is still on its way.
/// </summary>
public sealed class DriftScan : IDisposable
{
    private readonly CheckoutOptions _options;
    private readonly List<DirectoryHandle> _handles = [];
    private readonly Dictionary<byte[], ScannedDirectory> _listings = new(ByteComparer.Instance);
    private readonly HashSet<byte[]> _kept = new(ByteComparer.Instance);
    private readonly List<byte[]> _mounts = [];
    private ulong _device;

    private DriftScan(StateCache last, CheckoutOptions options)
    {
        Last = last;
        _options = options;
    }

    /// <summary>The state cache the target was compared with.</summary>
    public StateCache Last { get; }

    /// <summary>Paths found changed since the last sync.</summary>
    public long Drifted { get; private set; }

    /// <summary>True when the target is exactly what the last sync left (no drift, no directory touched): a sync to
    /// the same version with the same excludes has nothing to do.</summary>
    public bool Exact => Drifted == 0 && !DirectoriesMoved;

    /// <summary>A directory's own stat moved (a chmod, say): not drift, but the target is not exactly as left.</summary>
    private bool DirectoriesMoved { get; set; }

    /// <summary>Scans TARGET against LAST; OPTIONS give <see cref="CheckoutOptions.OnDrift"/> (required), the
    /// excludes, <see cref="CheckoutOptions.StayOnFilesystem"/> and <see cref="CheckoutOptions.KeepDrift"/>.</summary>
    public static DriftScan Run(string target, StateCache last, CheckoutOptions options)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(last);
        ArgumentNullException.ThrowIfNull(options);
        if (options.OnDrift is null)
        {
            throw new ArgumentException("a drift scan names what it finds to OnDrift", nameof(options));
        }

        // A handle per directory stays open for the sync that follows: thousands for an image.
        OpenFileLimit.Raise();
        var scan = new DriftScan(last, options);
        try
        {
            var root = scan.Open(DirectoryHandle.Open(target));
            var status = root.Stat([]);
            scan._device = status.Device;
            scan.DirectoriesMoved = last.Lookup([], status) is null;
            var seen = new HashSet<byte[]>(ByteComparer.Instance) { Array.Empty<byte>() };
            scan.ScanIn(root, [], seen);
            scan.ReportRemoved(seen);
            return scan;
        }
        catch
        {
            scan.Dispose();
            throw;
        }
    }

    /// <summary>True when PATH drifted and the sync is to keep it as it is (<see cref="CheckoutOptions.KeepDrift"/>).</summary>
    public bool Keeps(byte[] path) => _kept.Count > 0 && _kept.Contains(path);

    /// <summary>What the scan found in the directory at PATH, or null when it did not list it.</summary>
    internal ScannedDirectory? Listing(byte[] path) => _listings.GetValueOrDefault(path);

    public void Dispose()
    {
        foreach (var handle in _handles)
        {
            handle.Dispose();
        }

        _handles.Clear();
        _listings.Clear();
    }

    private DirectoryHandle Open(DirectoryHandle handle)
    {
        _handles.Add(handle);
        return handle;
    }

    private bool OtherFilesystem(in FileStatus status) => _options.StayOnFilesystem && status.Device != _device;

    private void ScanIn(DirectoryHandle dir, byte[] relative, HashSet<byte[]> seen)
    {
        var entries = dir.ReadEntries();
        entries.Sort((a, b) => ByteComparer.Instance.Compare(a.Name, b.Name));
        var listing = new ScannedDirectory(dir, [.. entries.Select(e => e.Name)]);
        _listings[relative] = listing;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var path = DirectoryHandle.Join(relative, entry.Name);
            if (_options.Excludes.Contains(path) || entry.Name.AsSpan().StartsWith(".sidus-"u8) || !dir.TryStat(entry.Name, out var status, out _))
            {
                continue;
            }

            listing.Statuses[i] = status;
            if (OtherFilesystem(status))
            {
                // Another filesystem mounted here (a preserved /data): neither looked into nor missing.
                _mounts.Add(path);
                continue;
            }

            seen.Add(path);
            if (!Last.Contains(path) && status.Kind == FileKind.Directory && _options.Excludes.HoldsExcluded(path))
            {
                ScanIn(Open(dir.OpenChild(entry.Name)), path, seen);
            }
            else if (!Last.Contains(path))
            {
                Report(DriftKind.Added, path);
            }
            else if (status.Kind == FileKind.Directory)
            {
                DirectoriesMoved |= Last.Lookup(path, status) is null;
                ScanIn(Open(dir.OpenChild(entry.Name)), path, seen);
            }
            else if (Last.Lookup(path, status) is null)
            {
                Report(Last.OnlyMetadataChanged(path, status) ? DriftKind.Metadata : DriftKind.Modified, path);
            }
        }
    }

    /// <summary>Records the last sync left that the walk did not see: removed, the topmost of each only.</summary>
    private void ReportRemoved(HashSet<byte[]> seen)
    {
        foreach (var path in Last.Paths.Where(p => !seen.Contains(p)).Order(ByteComparer.Instance))
        {
            var slash = Array.LastIndexOf(path, (byte)'/');
            if ((slash < 0 || seen.Contains(path[..slash])) && !_options.Excludes.Contains(path) && !UnderMount(path))
            {
                Report(DriftKind.Removed, path);
            }
        }
    }

    private bool UnderMount(byte[] path) =>
        _mounts.Any(m => path.AsSpan().SequenceEqual(m) || (path.Length > m.Length && path[m.Length] == (byte)'/' && path.AsSpan().StartsWith(m)));

    private void Report(DriftKind kind, byte[] path)
    {
        Drifted++;
        if (_options.KeepDrift)
        {
            _kept.Add(path);
        }

        _options.OnDrift!(kind, path);
    }
}

/// <summary>A directory a <see cref="DriftScan"/> listed: its handle, its names in byte order, and the status the
/// scan took of each (null where it took none: excluded, a leftover of an interrupted sync, or its stat failed).
/// Arrays searched by halves, not a dictionary: ten thousand names hashed and stored cost the scan a third of its time.</summary>
internal sealed class ScannedDirectory(DirectoryHandle handle, byte[][] names)
{
    public DirectoryHandle Handle { get; } = handle;

    public byte[][] Names { get; } = names;

    public FileStatus?[] Statuses { get; } = new FileStatus?[names.Length];

    /// <summary>True when NAME is listed; STATUS is what the scan found of it (null: not looked at).</summary>
    public bool TryFind(byte[] name, out FileStatus? status)
    {
        var at = Array.BinarySearch(Names, name, ByteComparer.Instance);
        status = at >= 0 ? Statuses[at] : null;
        return at >= 0;
    }
}
