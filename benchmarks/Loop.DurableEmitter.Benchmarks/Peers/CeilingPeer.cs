using Loop.Testing;
using Npgsql;
using NpgsqlTypes;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>
/// The group-commit ceiling: commits back to back, each a binary COPY of N ready-made rows (N = callers), nothing
/// delivered. An outbox that acknowledges each caller only after its own commit can put at most N rows in a commit,
/// so this bounds what any of them can persist at N callers, with no event to build and no caller to wake.
/// </summary>
internal sealed class CeilingPeer(NpgsqlDataSource dataSource, string table) : IOutboxPeer
{
    public long? Delivered => null;

    /// <summary>Rows per commit; set by the harness to the caller count.</summary>
    public int RowsPerCommit { get; set; } = 1;

    public static async Task<CeilingPeer> StartAsync(string connectionString)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        var table = PostgresFixture.UniqueTable();
        await using var create = dataSource.CreateCommand($"CREATE TABLE {table} (id bigserial PRIMARY KEY, body bytea NOT NULL, created_at timestamptz NOT NULL)");
        await create.ExecuteNonQueryAsync();
        return new CeilingPeer(dataSource, table);
    }

    /// <summary>Not used: <see cref="PersistAsync"/> writes whole commits.</summary>
    public Task PublishAsync(byte[] body) => PersistAsync(body, 1);

    /// <summary>Writes <paramref name="count"/> rows in commits of <see cref="RowsPerCommit"/>, one after another.</summary>
    public async Task PersistAsync(byte[] body, int count)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var createdAt = DateTimeOffset.UnixEpoch;
        for (var written = 0; written < count; written += RowsPerCommit)
        {
            await using var importer = await connection.BeginBinaryImportAsync($"COPY {table} (body, created_at) FROM STDIN (FORMAT BINARY)");
            for (var i = 0; i < Math.Min(RowsPerCommit, count - written); i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(body, NpgsqlDbType.Bytea);
                await importer.WriteAsync(createdAt, NpgsqlDbType.TimestampTz);
            }

            await importer.CompleteAsync();
        }
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
