namespace Sidus.Nodes.Storage;

/// <summary>Small helpers so every statement is one line with named parameters.</summary>
internal static class Sql
{
    public static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    public static async Task<int> ExecuteAsync(DbConnection c, DbTransaction? tx, CancellationToken ct, string sql, params (string, object?)[] parameters)
    {
        await using var cmd = Command(c, tx, sql, parameters);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<object?> ScalarAsync(DbConnection c, DbTransaction? tx, CancellationToken ct, string sql, params (string, object?)[] parameters)
    {
        await using var cmd = Command(c, tx, sql, parameters);
        var v = await cmd.ExecuteScalarAsync(ct);
        return v is DBNull ? null : v;
    }

    public static string? NullableString(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static long ToMilliseconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    public static DateTimeOffset FromMilliseconds(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
