using Npgsql;

namespace Loop.Postgres;

/// <summary>
/// The one way a Loop package creates and versions its PostgreSQL tables: under an advisory lock (so hosts starting
/// together migrate once), recorded per component in <c>&lt;schema&gt;.loop_schema_versions</c>, and refused by name
/// when the tables are newer than the package.
/// </summary>
internal static class PgSchemaVersions
{
    /// <summary>
    /// Brings <paramref name="component"/> to <paramref name="currentVersion"/>: runs <paramref name="migrate"/> with the
    /// version found (0 when none) in one transaction, then records the new version.
    /// </summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="schema">The schema (created when missing).</param>
    /// <param name="component">The key of this set of tables in the versions table.</param>
    /// <param name="currentVersion">The version this package writes.</param>
    /// <param name="describe">How an error names the tables and the package ("The table x", "Loop.DurableEmitter").</param>
    /// <param name="migrate">Creates or alters the tables, given the version found.</param>
    /// <param name="cancellationToken">Cancels the migration.</param>
    public static async Task EnsureAsync(
        NpgsqlDataSource dataSource,
        string schema,
        string component,
        int currentVersion,
        (string Tables, string Package) describe,
        Func<NpgsqlConnection, NpgsqlTransaction, int, Task> migrate,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock(hashtext('loop:{schema}:{component}'))", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"""
            CREATE SCHEMA IF NOT EXISTS {schema};
            CREATE TABLE IF NOT EXISTS {schema}.loop_schema_versions (
                component text PRIMARY KEY,
                version integer NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now());
            """, cancellationToken).ConfigureAwait(false);

        int version;
        await using (var read = new NpgsqlCommand($"SELECT version FROM {schema}.loop_schema_versions WHERE component = $1", connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = component });
            version = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int v ? v : 0;
        }

        if (version > currentVersion)
        {
            throw new InvalidOperationException(
                $"{describe.Tables}: schema version {version}, newer than this {describe.Package} understands ({currentVersion}). Upgrade the package.");
        }

        if (version < currentVersion)
        {
            await migrate(connection, transaction, version).ConfigureAwait(false);
            await using var write = new NpgsqlCommand(
                $"""
                INSERT INTO {schema}.loop_schema_versions (component, version) VALUES ($1, $2)
                ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, applied_at = now()
                """,
                connection,
                transaction);
            write.Parameters.Add(new NpgsqlParameter { Value = component });
            write.Parameters.Add(new NpgsqlParameter { Value = currentVersion });
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one statement in the migration's transaction.</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string text, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(text, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
