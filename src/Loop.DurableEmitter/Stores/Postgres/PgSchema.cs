using Npgsql;

namespace Loop.DurableEmitter.Stores.Postgres;

/// <summary>Creates and versions the durable events table. Idempotent and safe to run from many hosts at once.</summary>
internal static class PgSchema
{
    public const int CurrentVersion = 1;

    public static async Task EnsureAsync(NpgsqlDataSource dataSource, PgSqlText sql, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // One migrator at a time per table, across processes.
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock(hashtext('loop:{sql.Table}'))", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"""
            CREATE SCHEMA IF NOT EXISTS {sql.Schema};
            CREATE TABLE IF NOT EXISTS {sql.Schema}.loop_schema_versions (
                component text PRIMARY KEY,
                version integer NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now());
            """, cancellationToken).ConfigureAwait(false);

        var component = $"durable_events:{sql.Table}";
        int version;
        await using (var read = new NpgsqlCommand($"SELECT version FROM {sql.Schema}.loop_schema_versions WHERE component = $1", connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = component });
            version = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int v ? v : 0;
        }

        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The table {sql.Table} has schema version {version}, newer than this Loop.DurableEmitter understands ({CurrentVersion}). Upgrade the package.");
        }

        if (version < 1)
        {
            await ExecuteAsync(connection, transaction, $"""
                CREATE TABLE IF NOT EXISTS {sql.Table} (
                    id bigserial PRIMARY KEY,
                    payload bytea NOT NULL,
                    created_at timestamptz NOT NULL,
                    delivered_at timestamptz NULL,
                    lease_until timestamptz NULL);
                CREATE INDEX IF NOT EXISTS {sql.TableName}_pending_idx ON {sql.Table} (created_at, id) WHERE delivered_at IS NULL;
                CREATE INDEX IF NOT EXISTS {sql.TableName}_delivered_idx ON {sql.Table} (delivered_at) WHERE delivered_at IS NOT NULL;
                """, cancellationToken).ConfigureAwait(false);
        }

        if (version < CurrentVersion)
        {
            await using var write = new NpgsqlCommand(
                $"""
                INSERT INTO {sql.Schema}.loop_schema_versions (component, version) VALUES ($1, $2)
                ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, applied_at = now()
                """,
                connection,
                transaction);
            write.Parameters.Add(new NpgsqlParameter { Value = component });
            write.Parameters.Add(new NpgsqlParameter { Value = CurrentVersion });
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string text, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(text, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
