using Loop.Postgres;
using Npgsql;

namespace Loop.DurableEmitter.Stores.Postgres;

/// <summary>Creates and versions the durable events table. Idempotent and safe to run from many hosts at once.</summary>
internal static class PgSchema
{
    public const int CurrentVersion = 1;

    public static Task EnsureAsync(NpgsqlDataSource dataSource, PgSqlText sql, CancellationToken cancellationToken) =>
        PgSchemaVersions.EnsureAsync(
            dataSource,
            sql.Schema,
            $"durable_events:{sql.Table}",
            CurrentVersion,
            ($"The table {sql.Table}", "Loop.DurableEmitter"),
            async (connection, transaction, version) =>
            {
                if (version < 1)
                {
                    await PgSchemaVersions.ExecuteAsync(connection, transaction, $"""
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
            },
            cancellationToken);
}
