namespace Sidus.Nodes.Storage;

/// <summary>
/// What differs between the databases the inventory runs on. The SQL itself is kept portable (TEXT, BIGINT,
/// INSERT ... ON CONFLICT, named @parameters); only connections, transactions, identity columns and error codes differ.
/// </summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    public abstract string Provider { get; }

    /// <summary>Column definition for an auto-numbered primary key.</summary>
    public abstract string IdentityColumn { get; }

    /// <summary>Where the data lives, for messages (file path, or host/database without the password).</summary>
    public abstract string Describe { get; }

    public abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>A transaction that writers take one at a time; with it, reading then writing cannot lose another edit.</summary>
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct);

    /// <summary>A transaction whose reads all see one consistent state.</summary>
    public abstract Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct);

    /// <summary>Runs once before migrations (for example switching SQLite to WAL).</summary>
    public virtual Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Serialises concurrent migrators inside the migration transaction.</summary>
    public virtual Task LockForMigrationAsync(DbConnection connection, DbTransaction tx, CancellationToken ct) =>
        Task.CompletedTask;

    public abstract bool IsUniqueViolation(DbException exception);

    /// <summary>True when the database gave up waiting for another writer.</summary>
    public virtual bool IsBusy(DbException exception) => false;

    public abstract ValueTask DisposeAsync();
}
