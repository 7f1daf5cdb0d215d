using System.Diagnostics;

namespace Sidus.Nodes.Tests;

/// <summary>
/// A private PostgreSQL cluster for the tests: initdb in a temporary directory, listening only on a Unix socket
/// in that directory (no TCP port, nothing shared with a system cluster), stopped and deleted on dispose.
/// Needs Debian's postgresql package (in tools/packages/test.txt); without it the tests fail, they do not skip.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private const string BinDir = "/usr/lib/postgresql/15/bin";
    private const string OsUser = "postgres";
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(60);
    private int _databases;

    public PostgresCluster()
    {
        Assert.True(File.Exists(Path.Combine(BinDir, "initdb")), $"PostgreSQL is not installed ({BinDir}/initdb missing): apt-get install postgresql");
        Dir = Path.Combine("/tmp", "sidus-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Dir);
        Run("chown", OsUser, Dir);
        RunAsPostgres(Path.Combine(BinDir, "initdb"), "-D", DataDir, "-U", OsUser, "--auth=trust", "-E", "UTF8", "--no-sync");
        RunAsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", DataDir, "-w", "-t", "60", "-l", Path.Combine(Dir, "log"),
            "-o", $"-c listen_addresses='' -c unix_socket_directories={Dir} -c fsync=off", "start");
    }

    public string Dir { get; }

    private string DataDir => Path.Combine(Dir, "data");

    /// <summary>A connection string to a new, empty database of this cluster.</summary>
    public string NewDatabase()
    {
        var name = $"sidus_{Interlocked.Increment(ref _databases)}";
        RunAsPostgres(Path.Combine(BinDir, "createdb"), "-h", Dir, "-U", OsUser, name);
        return $"Host={Dir};Database={name};Username={OsUser};Pooling=true";
    }

    public void Dispose()
    {
        try
        {
            RunAsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", DataDir, "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(Dir, recursive: true);
        }
    }

    private static void RunAsPostgres(string program, params string[] args) => Run("runuser", ["-u", OsUser, "--", program, .. args]);

    private static void Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(CommandLimit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} took longer than {CommandLimit}");
        }

        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {output.Result}{error.Result}");
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "postgres";
}
