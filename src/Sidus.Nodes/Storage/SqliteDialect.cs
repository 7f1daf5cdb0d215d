using System.Data;
using Microsoft.Data.Sqlite;

namespace Sidus.Nodes.Storage;

/// <summary>SQLite in WAL mode: readers never block the writer; writers queue on BEGIN IMMEDIATE.</summary>
internal sealed class SqliteDialect : SqlDialect
{
    /// <summary>How long a writer waits for another writer before giving up (seconds).</summary>
    public const int BusyTimeoutSeconds = 30;

    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const int SqliteConstraint = 19;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private readonly string _connectionString;

    public SqliteDialect(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            DefaultTimeout = BusyTimeoutSeconds,
            Pooling = true,
        }.ToString();
    }

    public string Path { get; }

    public override string Provider => "sqlite";

    public override string IdentityColumn => "INTEGER PRIMARY KEY AUTOINCREMENT";

    public override string Describe => Path;

    public override async Task InitializeAsync(CancellationToken ct)
    {
        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, PrivateDirectory);
        }

        CreatePrivate(dir);

        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();

        // WAL is a property of the database file: set once, it holds for every later connection.
        cmd.CommandText = "PRAGMA journal_mode=WAL;";
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The database file is made before SQLite opens it, with mode 0600 (0640 in a setgid directory: the data
    /// directory of a group the admin chose); SQLite gives its -wal and -shm files the same mode. An existing file
    /// that others may read is closed.
    /// </summary>
    private void CreatePrivate(string? dir)
    {
        var shared = dir is { Length: > 0 } && (File.GetUnixFileMode(dir) & UnixFileMode.SetGroup) != 0;
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | (shared ? UnixFileMode.GroupRead : 0);
        try
        {
            using (new FileStream(Path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
            }
        }
        catch (IOException) when (File.Exists(Path))
        {
            var current = File.GetUnixFileMode(Path);
            var others = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            if ((current & others) != 0)
            {
                try
                {
                    File.SetUnixFileMode(Path, current & ~others);
                }
                catch (UnauthorizedAccessException)
                {
                    // Not ours to change (another user's file we may read): left as its owner made it.
                }
            }
        }
    }

    public override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        try
        {
            await c.OpenAsync(ct);
            await using var cmd = c.CreateCommand();

            // The provider retries SQLITE_BUSY on statements; busy_timeout also covers BEGIN IMMEDIATE itself.
            cmd.CommandText = $"PRAGMA busy_timeout={BusyTimeoutSeconds * 1000}; PRAGMA synchronous=NORMAL;";
            await cmd.ExecuteNonQueryAsync(ct);
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    public override Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(IsolationLevel.Serializable, deferred: true));

    public override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteConstraint };

    public override bool IsBusy(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked };

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file (and its -wal/-shm) open; release them with the store.
        using var c = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(c);
        return ValueTask.CompletedTask;
    }
}
