using System.Text.RegularExpressions;

namespace Sidus.Store.Refs;

/// <summary>
/// Image heads and tags as small files holding a commit id: refs/images/NAME and refs/tags/NAME/TAG.
/// Each update is write-temp, fsync, rename, fsync-directory: a ref is always the old or the new id.
/// </summary>
public sealed partial class RefStore
{
    private readonly string _images;
    private readonly string _tags;
    private readonly string _removed;
    private readonly string _staging;

    public RefStore(string refsDirectory, string stagingDirectory)
    {
        _images = Path.Combine(refsDirectory, "images");
        _tags = Path.Combine(refsDirectory, "tags");
        _removed = Path.Combine(refsDirectory, "removed");
        _staging = stagingDirectory;
        Directory.CreateDirectory(_images);
        Directory.CreateDirectory(_tags);
        Directory.CreateDirectory(_removed);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    /// <summary>Image and tag names: letters, digits, '.', '_' and '-', starting with a letter or digit, 64 at most.</summary>
    public static void ValidateName(string name, string what)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw new StoreException(
                $"'{name}' is not a valid {what} name: use letters, digits, '.', '_' and '-' (starting with a letter or digit, 64 at most)",
                StoreErrorKind.Usage);
        }
    }

    public IReadOnlyList<string> Images() =>
        Directory.EnumerateFiles(_images).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList()!;

    public ObjectId? Head(string image) => ReadRef(Path.Combine(_images, image));

    public void SetHead(string image, ObjectId commit) => WriteRef(_images, image, commit);

    public void DeleteImage(string image)
    {
        File.Delete(Path.Combine(_images, image));
        var tags = Path.Combine(_tags, image);
        if (Directory.Exists(tags))
        {
            Directory.Delete(tags, recursive: true);
        }

        File.Delete(Path.Combine(_removed, image));

        AtomicFile.SyncDirectoryOf(Path.Combine(_images, image));
    }

    public IReadOnlyDictionary<string, ObjectId> Tags(string image)
    {
        var dir = Path.Combine(_tags, image);
        var result = new SortedDictionary<string, ObjectId>(StringComparer.Ordinal);
        if (!Directory.Exists(dir))
        {
            return result;
        }

        foreach (var file in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(file);
            if (!name.StartsWith('.') && ReadRef(file) is { } id)
            {
                result[name] = id;
            }
        }

        return result;
    }

    public void SetTag(string image, string tag, ObjectId commit)
    {
        var dir = Path.Combine(_tags, image);
        Directory.CreateDirectory(dir);
        WriteRef(dir, tag, commit);
    }

    public bool DeleteTag(string image, string tag)
    {
        var path = Path.Combine(_tags, image, tag);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    /// <summary>
    /// The versions of IMAGE removed one by one (`image rm NAME@VER`, `image prune`): their commits stay as links of
    /// the history, but nothing resolves to them and gc frees their trees and files.
    /// </summary>
    public IReadOnlySet<ObjectId> Removed(string image)
    {
        var result = new HashSet<ObjectId>();
        string text;
        try
        {
            text = File.ReadAllText(Path.Combine(_removed, image), Encoding.ASCII);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return result;
        }

        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result.Add(ObjectId.TryParse(line, out var id) ? id : throw new CorruptObjectException($"{Path.Combine(_removed, image)} holds '{line}', not a version id"));
        }

        return result;
    }

    /// <summary>Adds VERSIONS to IMAGE's removed versions (one atomic rewrite of refs/removed/IMAGE).</summary>
    public void AddRemoved(string image, IEnumerable<ObjectId> versions)
    {
        var all = new SortedSet<ObjectId>(Removed(image));
        all.UnionWith(versions);
        Directory.CreateDirectory(_removed);
        var temp = Path.Combine(_staging, $"ref-{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, string.Concat(all.Select(id => id + "\n")), Encoding.ASCII);
        AtomicFile.Commit(temp, Path.Combine(_removed, image));
    }

    /// <summary>Every commit a ref points at (gc roots).</summary>
    public IEnumerable<ObjectId> AllTargets()
    {
        foreach (var image in Images())
        {
            if (Head(image) is { } head)
            {
                yield return head;
            }

            foreach (var tag in Tags(image).Values)
            {
                yield return tag;
            }
        }
    }

    private static ObjectId? ReadRef(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.ASCII).Trim();
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        return ObjectId.TryParse(text, out var id)
            ? id
            : throw new CorruptObjectException($"ref {path} does not hold a valid id");
    }

    private void WriteRef(string directory, string name, ObjectId commit)
    {
        var temp = Path.Combine(_staging, $"ref-{Guid.NewGuid():N}.tmp");
        // Written in staging, not beside the ref: a reader listing the refs never sees a temporary name.
        File.WriteAllBytes(temp, Encoding.ASCII.GetBytes(commit + "\n"));
        AtomicFile.Commit(temp, Path.Combine(directory, name));
    }
}
