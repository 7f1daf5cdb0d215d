namespace Sidus.Wire.Tests.Tftp.Support;

/// <summary>A fresh directory under /tmp, removed with everything in it on dispose.</summary>
internal sealed class TestDirectory : IDisposable
{
    public TestDirectory(string prefix)
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes SIZE random bytes (seeded, so a failure can be reproduced) and returns them.</summary>
    public byte[] WriteRandomFile(string name, int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        var full = Combine(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return bytes;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory must not hide the test's own result.
        }
    }
}
