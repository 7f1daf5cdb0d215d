namespace Sidus.Wire.Tftp;

/// <summary>
/// Serves regular files under one root directory. The path is walked one component at a time from a handle on the
/// root with O_NOFOLLOW, so no symlink is ever followed (not even one that stays inside the root): nothing outside
/// the root can be reached, whatever is renamed or linked while we look. The file is checked with fstat after it is
/// opened: only a regular file is served.
/// </summary>
public sealed class TftpDirectoryFileSource : ITftpFileSource, IDisposable
{
    /// <summary>Read-ahead per open file: a few dozen blocks per syscall, small enough for hundreds of sessions.</summary>
    private const int ReadBufferSize = 32 * 1024;

    private readonly DirectoryHandle _root;

    /// <summary>Opens the root now, so a missing root is an error at startup, not at the first request.</summary>
    public TftpDirectoryFileSource(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        RootDirectory = rootDirectory;
        _root = DirectoryHandle.Open(rootDirectory);
    }

    public string RootDirectory { get; }

    public ValueTask<TftpOpenResult> OpenAsync(TftpFileRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ValueTask.FromResult(Open(request.Path));
    }

    /// <summary>Opens a normalised root-relative path (see <see cref="TftpPath"/>).</summary>
    public TftpOpenResult Open(string path)
    {
        var segments = path.Split('/');
        var opened = new List<DirectoryHandle>();
        try
        {
            var directory = _root;
            for (var i = 0; i < segments.Length - 1; i++)
            {
                var name = Encoding.UTF8.GetBytes(segments[i]);
                var kind = Inspect(directory, name, out var problem);
                if (kind is null)
                {
                    return problem;
                }

                if (kind != FileKind.Directory)
                {
                    return TftpOpenResult.NotFound;
                }

                if (!directory.TryOpenChild(name, out var child) || child is null)
                {
                    return TftpOpenResult.Refuse($"directory {segments[i]} could not be opened without following a link");
                }

                opened.Add(child);
                directory = child;
            }

            return OpenRegular(directory, Encoding.UTF8.GetBytes(segments[^1]));
        }
        finally
        {
            foreach (var handle in opened)
            {
                handle.Dispose();
            }
        }
    }

    public void Dispose() => _root.Dispose();

    private static FileKind? Inspect(DirectoryHandle directory, byte[] name, out TftpOpenResult problem)
    {
        problem = default;
        if (!directory.TryStat(name, out var status, out var errno))
        {
            problem = errno is Errno.ENOENT or Errno.ENOTDIR
                ? TftpOpenResult.NotFound
                : TftpOpenResult.Refuse(new LinuxException(errno, "stat", null).Message);
            return null;
        }

        if (status.Kind == FileKind.Symlink)
        {
            problem = TftpOpenResult.Refuse("symbolic links are not followed");
            return null;
        }

        return status.Kind;
    }

    private static TftpOpenResult OpenRegular(DirectoryHandle directory, byte[] name)
    {
        var kind = Inspect(directory, name, out var problem);
        if (kind is null)
        {
            return problem;
        }

        if (kind != FileKind.Regular)
        {
            return TftpOpenResult.Refuse($"not a regular file ({kind})");
        }

        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = directory.OpenRead(name);
        }
        catch (LinuxException e) when (e.Errno is Errno.ENOENT)
        {
            return TftpOpenResult.NotFound;
        }
        catch (LinuxException e)
        {
            return TftpOpenResult.Refuse(e.Errno == Errno.ELOOP ? "symbolic links are not followed" : e.Message);
        }

        if (!HandleStatus.TryGetKindAndSize(handle, out var openedKind, out var size, out var errno) || openedKind != FileKind.Regular)
        {
            handle.Dispose();
            return TftpOpenResult.Refuse(errno != 0 ? new LinuxException(errno, "fstat", null).Message : "not a regular file");
        }

        var stream = new FileStream(handle, FileAccess.Read, ReadBufferSize);
        return TftpOpenResult.Found(new TftpFile(stream, size));
    }
}
