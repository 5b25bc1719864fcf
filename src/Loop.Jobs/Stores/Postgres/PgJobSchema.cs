using Npgsql;

namespace Loop.Jobs.Stores.Postgres;

/// <summary>Creates and versions the job store's tables. Idempotent and safe to run from many hosts at once.</summary>
internal static class PgJobSchema
{
    public const int CurrentVersion = 1;

    public static async Task EnsureAsync(NpgsqlDataSource dataSource, PgJobTables t, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock(hashtext('loop:{t.Schema}.{t.Prefix}'))", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"""
            CREATE SCHEMA IF NOT EXISTS {t.Schema};
            CREATE TABLE IF NOT EXISTS {t.Schema}.loop_schema_versions (
                component text PRIMARY KEY,
                version integer NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now());
            """, cancellationToken).ConfigureAwait(false);

        var component = $"jobs:{t.Prefix}";
        int version;
        await using (var read = new NpgsqlCommand($"SELECT version FROM {t.Schema}.loop_schema_versions WHERE component = $1", connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = component });
            version = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int v ? v : 0;
        }

        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The job tables {t.Schema}.{t.Prefix}_* have schema version {version}, newer than this Loop.Jobs understands ({CurrentVersion}). Upgrade the package.");
        }

        if (version < 1)
        {
            await ExecuteAsync(connection, transaction, $"""
                CREATE TABLE IF NOT EXISTS {t.Jobs} (
                    id text PRIMARY KEY,
                    spec jsonb NOT NULL,
                    created_at timestamptz NOT NULL,
                    archived_at timestamptz NULL);
                CREATE TABLE IF NOT EXISTS {t.Bridges} (
                    name text PRIMARY KEY,
                    url text NOT NULL,
                    incoming_token_hash bytea NOT NULL,
                    outgoing_token text NULL,
                    confirmations integer NOT NULL);
                -- Run data is json, not jsonb: kept as written (key order, number text), and not parsed on every checkpoint.
                -- Free space in each page lets a claim's update (owner, lease, version: no indexed column) stay on its
                -- page without touching an index; seq needs no unique index (its sequence makes it unique).
                CREATE TABLE IF NOT EXISTS {t.Runs} (
                    id uuid PRIMARY KEY,
                    seq bigserial NOT NULL,
                    job_id text NOT NULL,
                    status text NOT NULL,
                    initiator text NOT NULL,
                    created_at timestamptz NOT NULL,
                    creation_height bigint NULL,
                    input json NULL,
                    task_index integer NOT NULL,
                    data json NULL,
                    error text NULL,
                    sleep_until timestamptz NULL,
                    wait_height bigint NULL,
                    pending_bridge text NULL,
                    finished_at timestamptz NULL,
                    results json NOT NULL,
                    owner text NULL,
                    lease_until timestamptz NULL,
                    version integer NOT NULL)
                    WITH (fillfactor = 80);
                CREATE INDEX IF NOT EXISTS {t.Prefix}_runs_open_idx ON {t.Runs} (job_id, seq) WHERE status NOT IN ('completed', 'errored', 'cancelled');
                CREATE INDEX IF NOT EXISTS {t.Prefix}_runs_job_idx ON {t.Runs} (job_id, seq);
                CREATE INDEX IF NOT EXISTS {t.Prefix}_runs_finished_idx ON {t.Runs} (finished_at) WHERE finished_at IS NOT NULL;
                CREATE INDEX IF NOT EXISTS {t.Prefix}_runs_sleep_idx ON {t.Runs} (sleep_until) WHERE status = 'pending_sleep';
                CREATE TABLE IF NOT EXISTS {t.Fires} (
                    job_id text NOT NULL,
                    initiator integer NOT NULL,
                    key text NOT NULL,
                    fired_at timestamptz NOT NULL,
                    PRIMARY KEY (job_id, initiator, key));
                """, cancellationToken).ConfigureAwait(false);
        }

        if (version < CurrentVersion)
        {
            await using var write = new NpgsqlCommand(
                $"""
                INSERT INTO {t.Schema}.loop_schema_versions (component, version) VALUES ($1, $2)
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

/// <summary>The job store's table names, each schema-qualified.</summary>
internal sealed class PgJobTables(PgJobStoreOptions options)
{
    public string Schema { get; } = options.Schema;

    public string Prefix { get; } = options.TablePrefix;

    public string Jobs => $"{Schema}.{Prefix}_jobs";

    public string Bridges => $"{Schema}.{Prefix}_bridges";

    public string Runs => $"{Schema}.{Prefix}_runs";

    public string Fires => $"{Schema}.{Prefix}_fires";
}
