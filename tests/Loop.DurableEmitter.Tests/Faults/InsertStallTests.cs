using System.Text;
using Loop.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Tests.Faults;

/// <summary>
/// An insert that hangs in the database (another session holds the table locked): emits that queue behind it wait for
/// it as one batch instead of each holding a connection in the same wait, the hung insert fails at the publish timeout,
/// and once the lock goes every other emit is stored exactly once. Real PostgreSQL; the emitter's timeout on a fake
/// clock.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class InsertStallTests(SharedPostgres pg)
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());

    [Fact]
    public async Task Emits_behind_a_hung_insert_wait_as_one_batch_and_are_stored_once_when_it_ends()
    {
        var table = PostgresFixture.UniqueTable();
        var store = new PgDurableEventStore(pg.Fixture.DataSource, new PgDurableEventStoreOptions { TableName = table }, _time);
        await using var emitter = new DurableEventEmitter(
            store,
            new InMemoryBatchEmitter((_, _) => ValueTask.CompletedTask),
            new DurableEmitterOptions { StoreOnly = true, PublishTimeout = PublishTimeout, InsertBatchWorkers = 4 },
            timeProvider: _time);
        await emitter.StartAsync();

        // Warm the id reservation and the prepared insert, so that the only thing to wait for below is the lock.
        await emitter.EmitAsync(Body("warm"), Attributes);

        await using var locker = await pg.Fixture.DataSource.OpenConnectionAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE {store.Table} IN ACCESS EXCLUSIVE MODE", locker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var hung = emitter.EmitAsync(Body("hung"), Attributes).AsTask();
        await Eventually.WaitAsync(async () => await WaitingInsertsAsync(store.Table) == 1, "the first emit's insert waits for the lock");
        var queued = Enumerable.Range(0, 3).Select(i => emitter.EmitAsync(Body($"queued {i}"), Attributes).AsTask()).ToArray();

        // Four flushes are allowed, but the three queued emits are not a whole batch: they wait, holding no connection.
        (await WaitingInsertsAsync(store.Table)).Should().Be(1, "emits queued behind a hung insert do not each start an insert into the same wait");
        queued.Should().OnlyContain(t => !t.IsCompleted);

        // The hung insert ends at the publish timeout and its caller hears so; the queued emits go in one insert.
        _time.Advance(PublishTimeout);
        var failed = await FluentActions.Awaiting(() => hung.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<EventPersistenceException>();
        await Eventually.WaitAsync(async () => await WaitingInsertsAsync(store.Table) == 1, "the queued emits' one insert waits for the lock");
        queued.Should().OnlyContain(t => !t.IsCompleted);

        await transaction.RollbackAsync();
        var receipts = await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(30));

        // Stored exactly once each: the warm-up and the three queued emits; the failed one is not stored.
        var stored = await StoredIdsAsync(store.Table);
        stored.Should().HaveCount(4);
        stored.Should().Contain(receipts.Select(r => r.RowId));
        receipts.Select(r => r.RowId).Should().OnlyHaveUniqueItems();
        failed.Which.Message.Should().Contain("failed to persist event");
    }

    private static EventAttributes Attributes => new() { Source = "stall-tests", Type = "test.stall" };

    private static byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

    private async Task<long> WaitingInsertsAsync(string table)
    {
        await using var command = pg.Fixture.DataSource.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1");
        command.Parameters.AddWithValue($"INSERT INTO {table} %");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<long>> StoredIdsAsync(string table)
    {
        await using var command = pg.Fixture.DataSource.CreateCommand($"SELECT id FROM {table}");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<long>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }
}
