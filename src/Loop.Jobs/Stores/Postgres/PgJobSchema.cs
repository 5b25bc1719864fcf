using Loop.Postgres;
using Npgsql;

namespace Loop.Jobs.Stores.Postgres;

/// <summary>Creates and versions the job store's tables. Idempotent and safe to run from many hosts at once.</summary>
internal static class PgJobSchema
{
    public const int CurrentVersion = 2;

    public static Task EnsureAsync(NpgsqlDataSource dataSource, PgJobTables t, CancellationToken cancellationToken) =>
        PgSchemaVersions.EnsureAsync(
            dataSource,
            t.Schema,
            $"jobs:{t.Prefix}",
            CurrentVersion,
            ($"The job tables {t.Schema}.{t.Prefix}_*", "Loop.Jobs"),
            async (connection, transaction, version) =>
            {
                if (version < 1)
                {
                    await PgSchemaVersions.ExecuteAsync(connection, transaction, $"""
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

                if (version < 2)
                {
                    // Chain initiators: the run a fire created (so a log removed by a reorg can cancel it), each
                    // initiator's last processed block, and each chain's latest head.
                    await PgSchemaVersions.ExecuteAsync(connection, transaction, $"""
                        ALTER TABLE {t.Fires} ADD COLUMN IF NOT EXISTS run_id uuid NULL;
                        CREATE TABLE IF NOT EXISTS {t.Checkpoints} (
                            job_id text NOT NULL,
                            initiator integer NOT NULL,
                            position bigint NOT NULL,
                            PRIMARY KEY (job_id, initiator));
                        CREATE TABLE IF NOT EXISTS {t.Heads} (
                            chain text PRIMARY KEY,
                            number bigint NOT NULL,
                            hash text NOT NULL);
                        """, cancellationToken).ConfigureAwait(false);
                }
            },
            cancellationToken);
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

    public string Checkpoints => $"{Schema}.{Prefix}_checkpoints";

    public string Heads => $"{Schema}.{Prefix}_heads";
}
