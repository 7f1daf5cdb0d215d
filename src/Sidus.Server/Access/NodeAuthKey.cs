using System.Security.Cryptography;
using Sidus.Linux;

namespace Sidus.Server.Access;

/// <summary>
/// The server's secret for signing node credentials: 32 random bytes in HOME/server/node-auth.key (mode 0600), made
/// on the first start. Kept across restarts, so the sessions of running nodes stay valid when the server comes back
/// (a shared node's NBD reconnection presents the session it got before).
/// </summary>
internal static class NodeAuthKey
{
    public const int Length = 32;

    public static string PathIn(string home) => Path.Combine(home, "server", "node-auth.key");

    /// <summary>The key in HOME, made now when there is none (written whole under a temporary name, then linked into place).</summary>
    /// <exception cref="IOException">The file exists but is not a key (its length is wrong).</exception>
    public static byte[] LoadOrCreate(string home)
    {
        var path = PathIn(home);
        if (File.Exists(path))
        {
            return Read(path);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + AtomicFile.TemporarySuffix;
        File.Delete(temporary);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(RandomNumberGenerator.GetBytes(Length));
            stream.Flush(flushToDisk: true);
        }

        try
        {
            // No overwrite: when two servers start on one home at once, the first key written wins and both read it.
            File.Move(temporary, path, overwrite: false);
            AtomicFile.SyncDirectoryOf(path);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
        }

        return Read(path);
    }

    private static byte[] Read(string path)
    {
        var key = File.ReadAllBytes(path);
        if (key.Length != Length)
        {
            throw new IOException($"{path} holds {key.Length} bytes, not a {Length}-byte key: remove it and restart (running nodes then reboot)");
        }

        return key;
    }
}
