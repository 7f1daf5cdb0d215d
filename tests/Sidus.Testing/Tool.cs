namespace Sidus.Testing;

/// <summary>Finds the external programs tests drive. A missing program is a failure, never a skip: CI installs
/// every one of them from tools/packages/test.txt.</summary>
public static class Tool
{
    private static readonly string[] SearchPath =
        [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    /// <summary>The full path of <paramref name="name"/>; throws naming the Debian package when it is not installed.</summary>
    public static string Require(string name, string debianPackage)
    {
        foreach (var directory in SearchPath)
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException($"'{name}' is not installed: apt-get install {debianPackage} (and list it in tools/packages/test.txt).");
    }
}
