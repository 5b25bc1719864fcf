using Loop.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>The floor: one INSERT (one commit) per event, nothing delivered.</summary>
internal sealed class InsertPeer(NpgsqlDataSource dataSource, string table) : IOutboxPeer
{
    public long? Delivered => null;

    public static async Task<InsertPeer> StartAsync(string connectionString)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        var table = PostgresFixture.UniqueTable();
        await using var create = dataSource.CreateCommand($"CREATE TABLE {table} (id uuid PRIMARY KEY, body bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        await create.ExecuteNonQueryAsync();
        return new InsertPeer(dataSource, table);
    }

    public async Task PublishAsync(byte[] body)
    {
        await using var command = dataSource.CreateCommand($"INSERT INTO {table} (id, body) VALUES ($1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = Guid.NewGuid() });
        command.Parameters.Add(new NpgsqlParameter { Value = body });
        await command.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
