namespace Sidus.Linux;

/// <summary>Builds NUL-terminated byte strings for libc in a caller-provided buffer.</summary>
internal static class CString
{
    /// <summary>PATH_MAX plus the terminator: any path Linux accepts fits.</summary>
    public const int MaxPath = 4097;

    public static Span<byte> Terminate(ReadOnlySpan<byte> value, Span<byte> buffer)
    {
        if (value.Length + 1 > buffer.Length)
        {
            throw new PathTooLongException($"path of {value.Length} bytes is longer than Linux allows");
        }

        if (value.Contains((byte)0))
        {
            throw new InvalidDataException("a file name may not contain a NUL byte");
        }

        value.CopyTo(buffer);
        buffer[value.Length] = 0;
        return buffer[..(value.Length + 1)];
    }

    public static byte[] FromString(string value) => Encoding.UTF8.GetBytes(value);
}
