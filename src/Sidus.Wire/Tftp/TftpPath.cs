using System.Text.Unicode;

namespace Sidus.Wire.Tftp;

/// <summary>
/// Turns a requested file name into a root-relative path "a/b/c" or refuses it. The result has no empty, "." or
/// ".." component, no control character and no leading slash, and is valid UTF-8; opening it safely (no symlinks
/// out of the root) is the file source's job.
/// </summary>
public static class TftpPath
{
    private const byte Slash = (byte)'/';
    private const byte Backslash = (byte)'\\';
    private const byte StuffedByte = 0xff;

    public static bool TryNormalize(ReadOnlySpan<byte> requested, TftpPathOptions options, out string path, out string problem)
    {
        path = string.Empty;
        problem = string.Empty;
        if (options.StripTrailingFF)
        {
            requested = requested.TrimEnd(StuffedByte);
        }

        if (requested.IsEmpty)
        {
            problem = "empty file name";
            return false;
        }

        if (requested.IndexOfAnyInRange((byte)0, (byte)0x1f) >= 0 || requested.Contains((byte)0x7f))
        {
            problem = "control character or NUL in file name";
            return false;
        }

        if (!Utf8.IsValid(requested))
        {
            problem = "file name is not UTF-8";
            return false;
        }

        Span<byte> name = requested.Length <= 512 ? stackalloc byte[requested.Length] : new byte[requested.Length];
        requested.CopyTo(name);
        name.Replace(Backslash, Slash);
        ReadOnlySpan<byte> rest = name;
        if (rest[0] == Slash)
        {
            if (!options.AllowRootedPaths)
            {
                problem = "absolute path refused";
                return false;
            }

            rest = rest.TrimStart(Slash);
        }

        var sb = new StringBuilder(rest.Length);
        foreach (var range in rest.Split(Slash))
        {
            var segment = rest[range];
            if (segment.IsEmpty || segment.SequenceEqual("."u8))
            {
                continue;
            }

            if (segment.SequenceEqual(".."u8))
            {
                problem = "\"..\" in path refused";
                return false;
            }

            if (segment.Length > options.MaxSegmentLength)
            {
                problem = "path component too long";
                return false;
            }

            if (sb.Length > 0)
            {
                sb.Append('/');
            }

            sb.Append(Encoding.UTF8.GetString(segment));
        }

        if (sb.Length == 0)
        {
            problem = "file name names the root";
            return false;
        }

        var result = sb.ToString();
        if (Encoding.UTF8.GetByteCount(result) > options.MaxPathLength)
        {
            problem = "file name too long";
            return false;
        }

        path = result;
        return true;
    }
}
