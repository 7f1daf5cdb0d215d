namespace Sidus.E2E.Tests.Support;

/// <summary>
/// The temporary folder of one boot test (serial console, server and dnsmasq logs). It goes with the test, so runs
/// leave nothing in /tmp; with <see cref="KeepVariable"/>=1 it stays for a look (the tests print its path).
/// </summary>
public static class TestWorkDirectory
{
    public const string KeepVariable = "SIDUS_TEST_KEEP";

    public static bool Keep => Environment.GetEnvironmentVariable(KeepVariable) == "1";

    public static string Create(string prefix) => Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>Removes PATH unless the logs are kept; a failure is added to FAILURES, not thrown.</summary>
    public static void Remove(string path, List<Exception> failures)
    {
        if (Keep)
        {
            return;
        }

        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failures.Add(e);
        }
    }

    /// <summary>What the tests print after a boot: where the logs are, and whether they outlive the test.</summary>
    public static string Describe(string path) =>
        Keep ? $"logs in {path}" : $"logs in {path} (removed after the test; {KeepVariable}=1 keeps them)";
}
