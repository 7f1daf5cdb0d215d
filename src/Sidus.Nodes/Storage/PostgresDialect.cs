using System.Data;
using Npgsql;

namespace Sidus.Nodes.Storage;

/// <summary>PostgreSQL, so several Sidus servers share one inventory.</summary>
internal sealed class PostgresDialect : SqlDialect
{
    /// <summary>Key of the advisory lock that serialises schema migrations ("SIDUSINV" in ASCII).</summary>
    private const long MigrationLockKey = 0x5349_4455_5349_4E56;

    private const string UniqueViolation = "23505";
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _describe;

    public PostgresDialect(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InventoryException(InventoryErrorKind.Invalid, $"the PostgreSQL connection string is malformed: {e.Message}", e);
        }

        _describe = $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}";
        _dataSource = new NpgsqlSlimDataSourceBuilder(builder.ConnectionString).Build();
    }

    public override string Provider => "postgresql";

    public override string IdentityColumn => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";

    public override string Describe => _describe;

    public override async Task<DbConnection> OpenAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

    public override async Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);

    public override async Task LockForMigrationAsync(DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT pg_advisory_xact_lock({MigrationLockKey})";
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: UniqueViolation };

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
