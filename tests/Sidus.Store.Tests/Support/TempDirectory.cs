using System.Text;
using Sidus.Linux;

namespace Sidus.Store.Tests.Support;

/// <summary>A directory under /var/tmp for one test (a real disk filesystem: tmpfs lacks user xattrs on old kernels).</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "sidus-test")
    {
        Path = System.IO.Path.Combine("/var/tmp", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (!Directory.Exists(Path))
        {
            return;
        }

        using var parent = DirectoryHandle.Open(System.IO.Path.GetDirectoryName(Path)!);
        parent.RemoveTree(Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(Path)));
    }
}
