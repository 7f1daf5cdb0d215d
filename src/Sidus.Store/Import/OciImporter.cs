using System.Text.Json;
using Sidus.Store.Packs;

namespace Sidus.Store.Import;

/// <summary>
/// Imports a container image: an OCI image layout directory, or an archive of one (`docker save`, OCI archives,
/// the older Docker format with manifest.json). The chosen manifest's layers are applied in order over one tree with
/// whiteouts honoured. Every blob is checked against its digest (and each layer's uncompressed tar against the
/// config's diff_ids) before the version is recorded; a mismatch fails the import.
/// </summary>
public sealed class OciImporter
{
    /// <summary>Largest JSON document (index, manifest, config) read into memory.</summary>
    public const int MaxJsonLength = 16 << 20;

    private const int MaxIndexDepth = 4;
    private const string DefaultPlatform = "linux/amd64";
    private const int ReadBufferLength = 1 << 20;

    private readonly ObjectWriter _writer;
    private readonly string _stagingDirectory;
    private readonly IProgress<TransferProgress>? _progress;

    public OciImporter(ObjectWriter writer, string stagingDirectory, IProgress<TransferProgress>? progress = null)
    {
        _writer = writer;
        _stagingDirectory = stagingDirectory;
        _progress = progress;
    }

    /// <summary>OS/ARCH[/VARIANT] to pick from a multi-platform image; linux/amd64 (or the only one) when null.</summary>
    public string? Platform { get; init; }

    /// <summary>Layers applied by the last import.</summary>
    public int LayersApplied { get; private set; }

    /// <summary>
    /// True when FILE is a tar archive (compressed or not) holding a container image rather than a root tree: it has
    /// a top-level manifest.json or oci-layout. Image archives are shallow (ID/layer.tar, blobs/sha256/HEX), so a root
    /// tree is told apart at its first deeper path or top-level symlink, without reading it all.
    /// </summary>
    public static bool IsImageArchive(string file)
    {
        using var raw = File.OpenRead(file);
        using var plain = new BufferedStream(Decompression.Open(raw, file, out _), ReadBufferLength);
        var reader = new TarReader(plain);
        try
        {
            while (reader.Next() is { } member)
            {
                var path = TarImporter.NormalisePath(member.Path, member.Path);
                if (path.Count == 0)
                {
                    continue;
                }

                var top = System.Text.Encoding.Latin1.GetString(path[0]);
                if (path.Count == 1 && member.Kind == TarMemberKind.Regular && top is "manifest.json" or "oci-layout")
                {
                    return true;
                }

                var deep = path.Count > (top == "blobs" ? 3 : 2);
                if (deep || member.Kind is not (TarMemberKind.Regular or TarMemberKind.Directory or TarMemberKind.Symlink) ||
                    (member.Kind == TarMemberKind.Symlink && path.Count == 1))
                {
                    return false;
                }
            }
        }
        catch (StoreException)
        {
            // Not readable as tar (or hostile): the tarball import reports the problem properly.
            return false;
        }

        return false;
    }

    public MemoryTree ImportLayout(string directory, CancellationToken cancellation) =>
        Import(new LayoutFiles(directory), directory, cancellation);

    public MemoryTree ImportArchive(string file, CancellationToken cancellation)
    {
        using var files = ArchiveFiles.Create(file, _stagingDirectory);
        return Import(files, file, cancellation);
    }

    private MemoryTree Import(IImageFiles files, string label, CancellationToken cancellation)
    {
        var layers = files.Exists("index.json") ? LayersFromIndex(files, label) : LayersFromDockerManifest(files, label);
        var importer = new TarImporter(_writer, _progress);
        for (var i = 0; i < layers.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            ApplyLayer(files, layers[i], importer, label, i, cancellation);
        }

        LayersApplied = layers.Count;
        return importer.Tree;
    }

    private static void ApplyLayer(IImageFiles files, Layer layer, TarImporter importer, string label, int index, CancellationToken cancellation)
    {
        if (layer.MediaType?.Contains("encrypted", StringComparison.Ordinal) == true)
        {
            throw new StoreException($"{label}: layer {index + 1} is encrypted ({layer.MediaType}); decrypt the image first");
        }

        var what = $"{label}: layer {index + 1} ({layer.Path})";
        using var raw = new HashingStream(files.Open(layer.Path, what));
        using var plain = new HashingStream(Decompression.Open(new NonClosing(raw), what, out _));
        using (var buffered = new BufferedStream(new NonClosing(plain), ReadBufferLength))
        {
            importer.ApplyLayer(buffered, cancellation);
            // Read what follows the tar's end marker, so the digests cover every byte of the blob.
            buffered.CopyTo(Stream.Null);
        }

        raw.CopyTo(Stream.Null);
        if (layer.Digest is { } digest && raw.Digest() != digest)
        {
            throw new StoreException($"{what} does not match its digest {digest} (it hashes to {raw.Digest()}): the image is damaged; nothing was imported", StoreErrorKind.Corrupt);
        }

        if (layer.Size is { } size && raw.Length != size)
        {
            throw new StoreException($"{what} has {raw.Length} bytes, its descriptor says {size}: the image is damaged; nothing was imported", StoreErrorKind.Corrupt);
        }

        if (layer.DiffId is { } diffId && plain.Digest() != diffId)
        {
            throw new StoreException($"{what} unpacks to data that does not match the config's diff_id {diffId}: the image is damaged; nothing was imported", StoreErrorKind.Corrupt);
        }
    }

    private List<Layer> LayersFromIndex(IImageFiles files, string label)
    {
        using var index = ReadJson(files, "index.json", null, label);
        var descriptor = ChooseManifest(index.RootElement, label);
        for (var depth = 0; depth < MaxIndexDepth; depth++)
        {
            var (digest, path) = BlobPath(descriptor, label);
            using var document = ReadJson(files, path, digest, label);
            var root = document.RootElement;
            if (root.TryGetProperty("manifests", out _))
            {
                descriptor = ChooseManifest(root, label);
                continue;
            }

            if (!root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
            {
                throw new StoreException($"{label}: manifest {digest} lists no layers");
            }

            var diffIds = DiffIds(files, root, label);
            var result = new List<Layer>();
            foreach (var layer in layers.EnumerateArray())
            {
                var (layerDigest, layerPath) = BlobPath(layer, label);
                var diffId = diffIds is not null && result.Count < diffIds.Count ? diffIds[result.Count] : null;
                result.Add(new Layer(layerPath, layerDigest, layer.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) ? n : null,
                    Text(layer, "mediaType"), diffId));
            }

            if (diffIds is not null && diffIds.Count != result.Count)
            {
                throw new StoreException($"{label}: the manifest has {result.Count} layers but its config lists {diffIds.Count} diff_ids");
            }

            return result;
        }

        throw new StoreException($"{label}: image indexes nest deeper than {MaxIndexDepth} levels");
    }

    private static List<string>? DiffIds(IImageFiles files, JsonElement manifest, string label)
    {
        if (!manifest.TryGetProperty("config", out var config))
        {
            return null;
        }

        var (digest, path) = BlobPath(config, label);
        using var document = ReadJson(files, path, digest, label);
        return ReadDiffIds(document.RootElement);
    }

    private static List<string>? ReadDiffIds(JsonElement config) =>
        config.TryGetProperty("rootfs", out var rootfs) && rootfs.TryGetProperty("diff_ids", out var ids) && ids.ValueKind == JsonValueKind.Array
            ? ids.EnumerateArray().Select(e => e.GetString() ?? "").ToList()
            : null;

    private static List<Layer> LayersFromDockerManifest(IImageFiles files, string label)
    {
        if (!files.Exists("manifest.json"))
        {
            throw new StoreException($"{label} has neither index.json nor manifest.json: it is not an OCI or Docker image");
        }

        using var document = ReadJson(files, "manifest.json", null, label);
        var images = document.RootElement;
        if (images.ValueKind != JsonValueKind.Array || images.GetArrayLength() == 0)
        {
            throw new StoreException($"{label}: manifest.json lists no image");
        }

        if (images.GetArrayLength() > 1)
        {
            var tags = images.EnumerateArray().Select(i => i.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array
                ? string.Join(",", t.EnumerateArray().Select(x => x.GetString())) : "(untagged)");
            throw new StoreException($"{label} holds {images.GetArrayLength()} images ({string.Join("; ", tags)}): save one image per archive");
        }

        var image = images[0];
        List<string>? diffIds = null;
        if (Text(image, "Config") is { } configPath)
        {
            using var config = ReadJson(files, configPath, DigestFromBlobPath(configPath), label);
            diffIds = ReadDiffIds(config.RootElement);
        }

        if (!image.TryGetProperty("Layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            throw new StoreException($"{label}: manifest.json has no Layers");
        }

        var result = new List<Layer>();
        foreach (var layer in layers.EnumerateArray())
        {
            var path = layer.GetString() ?? throw new StoreException($"{label}: manifest.json has a layer that is not a path");
            var diffId = diffIds is not null && result.Count < diffIds.Count ? diffIds[result.Count] : null;
            result.Add(new Layer(path, DigestFromBlobPath(path), null, null, diffId));
        }

        return result;
    }

    /// <summary>The digest a blob path like blobs/sha256/HEX names, or null for the older layer.tar paths.</summary>
    private static string? DigestFromBlobPath(string path)
    {
        var parts = path.Split('/');
        return parts.Length == 3 && parts[0] == "blobs" && parts[1] == "sha256" ? "sha256:" + parts[2] : null;
    }

    private JsonElement ChooseManifest(JsonElement index, string label)
    {
        if (!index.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array || manifests.GetArrayLength() == 0)
        {
            throw new StoreException($"{label}: the image index lists no manifests");
        }

        // Attestations and signatures ride along as manifests of platform unknown/unknown: they are not images.
        var images = manifests.EnumerateArray()
            .Where(m => !(m.TryGetProperty("annotations", out var a) && a.TryGetProperty("vnd.docker.reference.type", out _)))
            .ToList();
        if (Platform is null && images.Count == 1)
        {
            return images[0];
        }

        var wanted = Platform ?? DefaultPlatform;
        foreach (var m in images)
        {
            if (PlatformOf(m) is { } p && (p == wanted || (Platform is not null && p.StartsWith(wanted + "/", StringComparison.Ordinal))))
            {
                return m;
            }
        }

        throw new StoreException(
            $"{label} has no {wanted} image; it has: {string.Join(", ", images.Select(m => PlatformOf(m) ?? "(no platform)"))}",
            StoreErrorKind.NotFound);
    }

    private static string? PlatformOf(JsonElement descriptor)
    {
        if (!descriptor.TryGetProperty("platform", out var platform))
        {
            return null;
        }

        var text = $"{Text(platform, "os")}/{Text(platform, "architecture")}";
        return Text(platform, "variant") is { Length: > 0 } variant ? text + "/" + variant : text;
    }

    private static (string Digest, string Path) BlobPath(JsonElement descriptor, string label)
    {
        var digest = Text(descriptor, "digest") ?? throw new StoreException($"{label}: a descriptor has no digest");
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        var algorithm = colon > 0 ? digest[..colon] : "";
        var hex = colon > 0 ? digest[(colon + 1)..] : "";
        if (algorithm != "sha256")
        {
            throw new StoreException($"{label}: digest {digest} uses {algorithm}; sidus verifies sha256 digests only");
        }

        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigitLower))
        {
            throw new StoreException($"{label}: '{digest}' is not a valid sha256 digest");
        }

        return (digest, $"blobs/sha256/{hex}");
    }

    private static JsonDocument ReadJson(IImageFiles files, string path, string? digest, string label)
    {
        using var stream = new HashingStream(files.Open(path, $"{label}: {path}"));
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > MaxJsonLength)
            {
                throw new StoreException($"{label}: {path} is over {MaxJsonLength} bytes; that is not an image manifest");
            }
        }

        if (digest is not null && stream.Digest() != digest)
        {
            throw new StoreException($"{label}: {path} does not match its digest {digest}: the image is damaged", StoreErrorKind.Corrupt);
        }

        try
        {
            return JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException e)
        {
            throw new StoreException($"{label}: {path} is not valid JSON ({e.Message})", e);
        }
    }

    private static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private sealed record Layer(string Path, string? Digest, long? Size, string? MediaType, string? DiffId);

    /// <summary>The files of an image, by their path inside the layout or archive.</summary>
    private interface IImageFiles
    {
        bool Exists(string path);

        Stream Open(string path, string what);
    }

    private sealed class LayoutFiles(string directory) : IImageFiles
    {
        public bool Exists(string path) => File.Exists(Resolve(path));

        public Stream Open(string path, string what)
        {
            var full = Resolve(path);
            return File.Exists(full)
                ? new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan)
                : throw new StoreException($"{what} is missing from the layout ({full})", StoreErrorKind.NotFound);
        }

        private string Resolve(string path)
        {
            var parts = TarImporter.NormalisePath(System.Text.Encoding.UTF8.GetBytes(path), System.Text.Encoding.UTF8.GetBytes(path));
            return Path.Combine([directory, .. parts.Select(p => System.Text.Encoding.UTF8.GetString(p))]);
        }
    }

    /// <summary>
    /// An image archive read in place: one pass indexes where each member's data lies, then members are read by
    /// offset. A compressed archive is first decompressed to a temporary file in the store's staging directory.
    /// </summary>
    private sealed class ArchiveFiles : IImageFiles, IDisposable
    {
        private const int MaxSymlinkHops = 16;

        private readonly string _file;
        private readonly string? _temporary;
        private readonly Dictionary<string, TarMember> _members = new(StringComparer.Ordinal);

        private ArchiveFiles(string file, string? temporary)
        {
            _file = file;
            _temporary = temporary;
        }

        public static ArchiveFiles Create(string file, string stagingDirectory)
        {
            string? temporary = null;
            try
            {
                using (var raw = File.OpenRead(file))
                using (var plain = Decompression.Open(raw, file, out var compression))
                {
                    if (compression != ArchiveCompression.None)
                    {
                        temporary = Path.Combine(stagingDirectory, $"image-{Guid.NewGuid():N}.tar");
                        using var copy = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
                        plain.CopyTo(copy, ReadBufferLength);
                    }
                }

                var files = new ArchiveFiles(file, temporary);
                files.Index();
                return files;
            }
            catch
            {
                if (temporary is not null)
                {
                    File.Delete(temporary);
                }

                throw;
            }
        }

        private string Plain => _temporary ?? _file;

        private void Index()
        {
            using var stream = new FileStream(Plain, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
            var reader = new TarReader(stream);
            while (reader.Next() is { } member)
            {
                _members[Key(member.Path, member.Path)] = member;
            }
        }

        public bool Exists(string path) => TryFind(path, out _);

        public Stream Open(string path, string what)
        {
            if (!TryFind(path, out var member))
            {
                throw new StoreException($"{what} is missing from the archive", StoreErrorKind.NotFound);
            }

            var stream = new FileStream(Plain, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            stream.Position = member.DataOffset;
            return new SliceStream(stream, member.DataLength);
        }

        private bool TryFind(string path, out TarMember member)
        {
            var key = Key(System.Text.Encoding.UTF8.GetBytes(path), System.Text.Encoding.UTF8.GetBytes(path));
            for (var hop = 0; hop < MaxSymlinkHops; hop++)
            {
                if (!_members.TryGetValue(key, out member!))
                {
                    return false;
                }

                switch (member.Kind)
                {
                    case TarMemberKind.Regular when member.Extents is null:
                        return true;
                    case TarMemberKind.HardLink:
                        key = Key(member.LinkTarget!, member.Path);
                        break;
                    case TarMemberKind.Symlink:
                        // Older `docker save` links duplicate layers as ../ID/layer.tar: resolve inside the archive.
                        var directory = key.Contains('/', StringComparison.Ordinal) ? key[..key.LastIndexOf('/')] : "";
                        var target = member.LinkTarget!;
                        key = ResolveInside(directory, System.Text.Encoding.Latin1.GetString(target));
                        break;
                    default:
                        return false;
                }
            }

            member = null!;
            return false;
        }

        private static string ResolveInside(string directory, string target)
        {
            var parts = target.StartsWith('/') ? [] : directory.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
            foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                if (part == "..")
                {
                    if (parts.Count > 0)
                    {
                        parts.RemoveAt(parts.Count - 1);
                    }
                }
                else if (part != ".")
                {
                    parts.Add(part);
                }
            }

            return string.Join('/', parts);
        }

        private static string Key(byte[] path, byte[] member) =>
            string.Join('/', TarImporter.NormalisePath(path, member).Select(p => System.Text.Encoding.Latin1.GetString(p)));

        public void Dispose()
        {
            if (_temporary is not null)
            {
                File.Delete(_temporary);
            }
        }
    }

    /// <summary>LENGTH bytes of a file from its current position.</summary>
    private sealed class SliceStream(Stream inner, long length) : ReadOnlyStream
    {
        private long _left = length;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_left == 0)
            {
                return 0;
            }

            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            if (n == 0)
            {
                throw new StoreException("the image archive changed or shrank while it was read");
            }

            _left -= n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

    }

    /// <summary>SHA-256 and length of everything read through it.</summary>
    private sealed class HashingStream(Stream inner) : ReadOnlyStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public override long Length => _length;

        public string Digest() => "sha256:" + Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            _hash.AppendData(buffer[..n]);
            _length += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Keeps the decompressor from disposing the hashing stream it reads, which is checked afterwards.</summary>
    private sealed class NonClosing(Stream inner) : ReadOnlyStream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

    }
}
