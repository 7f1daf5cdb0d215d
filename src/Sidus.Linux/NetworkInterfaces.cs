namespace Sidus.Linux;

public static unsafe class NetworkInterfaces
{
    /// <summary>The kernel's index of interface NAME (if_nametoindex).</summary>
    public static int IndexOf(string name)
    {
        var n = Mounts.Bytes(name);
        fixed (byte* p = n)
        {
            var index = Libc.if_nametoindex(p);
            return index != 0 ? (int)index : throw LinuxException.FromLastError("if_nametoindex", name);
        }
    }
}
