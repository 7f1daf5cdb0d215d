namespace Sidus.Store.Refs;

/// <summary>
/// The one answer to "does this image setting name a version here?", for everything that stores one (the inventory
/// through `sidus node|group set`, `sidus apply` and POST /api/apply): null when NAME, NAME@N, NAME@HEX or NAME:TAG
/// resolves, else a message that names the value and what exists instead.
/// </summary>
public static class ImageReferences
{
    /// <summary>Most versions or names listed in a message; beyond, the command that lists them all is named.</summary>
    public const int MaxListed = 12;

    /// <summary>Why SPEC names no version of this store, or null when it does. A damaged store throws (it is no answer).</summary>
    public static string? Problem(Repository repository, string spec)
    {
        ArgumentNullException.ThrowIfNull(repository);
        try
        {
            repository.Resolve(spec);
            return null;
        }
        catch (StoreException e) when (e.Kind is StoreErrorKind.NotFound or StoreErrorKind.Usage)
        {
            return e.Message + WhatExists(repository, spec);
        }
    }

    private static string WhatExists(Repository repository, string spec)
    {
        string image;
        string? tag;
        try
        {
            (image, _, tag) = Repository.ParseSpec(spec);
        }
        catch (StoreException)
        {
            return string.Empty;
        }

        if (repository.Refs.Head(image) is null)
        {
            var images = repository.Refs.Images();
            return images.Count == 0
                ? "; there are no images yet ('sidus image build' or 'sidus image import' makes one)"
                : $"; images: {List(images)}";
        }

        if (tag is not null)
        {
            var tags = repository.Refs.Tags(image).Keys.ToList();
            return tags.Count == 0 ? $"; '{image}' has no tags ('sidus image tag {image}@VER TAG' makes one)" : $"; its tags: {List(tags)}";
        }

        var versions = repository.History(image).Select(v => v.Commit.Sequence).Order().ToList();
        return $"; its versions: {Ranges(versions)}";
    }

    private static string List(IReadOnlyCollection<string> names) =>
        string.Join(", ", names.Take(MaxListed)) + (names.Count > MaxListed ? $" and {names.Count - MaxListed} more" : string.Empty);

    /// <summary>1, 3-7, 9: what `sidus image log` would list, in one line.</summary>
    private static string Ranges(List<long> sorted)
    {
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(i == j ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }

        return List(parts);
    }
}
