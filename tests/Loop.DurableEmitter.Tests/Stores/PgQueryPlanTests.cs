using Loop.DurableEmitter.Stores.Postgres;
using Loop.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Tests.Stores;

/// <summary>Plans PostgreSQL picks for the store's hot queries, on a table in the state a busy emitter leaves it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgQueryPlanTests(SharedPostgres pg)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_delivery_mark_finds_its_rows_by_primary_key_and_never_scans_the_pending_index(bool deleteOnDelivery)
    {
        var options = new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), DeleteOnDelivery = deleteOnDelivery };
        var store = new PgDurableEventStore(pg.Fixture.DataSource, options);
        await store.InitializeAsync();

        // Thousands of 1 KiB events delivered since the last vacuum, a few pending: the shape that made the planner
        // combine a bitmap scan of the whole pending index (dead entries included) with the key lookups. (In a table of
        // a few pages a sequential scan is the cheaper plan, and PostgreSQL takes it.)
        var ids = new List<long>();
        for (var i = 0; i < 30; i++)
        {
            ids.AddRange(await store.InsertBatchAsync([.. Enumerable.Repeat((ReadOnlyMemory<byte>)new byte[1024], 100)], null));
        }

        await store.MarkDeliveredBatchAsync(ids[..2900]);

        await using var explain = pg.Fixture.DataSource.CreateCommand("EXPLAIN " + new PgSqlText(options).MarkDelivered);
        explain.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. ids[2900..]] });
        if (!deleteOnDelivery)
        {
            explain.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = TimeProvider.System.GetUtcNow() });
        }

        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        var text = string.Join('\n', plan);
        text.Should().Contain($"{options.TableName}_pkey").And.NotContain($"{options.TableName}_pending_idx", text);

        // And the marks still land: the 100 pending rows are marked, the 2,900 already delivered are not counted again.
        (await store.MarkDeliveredBatchAsync(ids)).Should().Be(100);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_delivery_mark_commits_without_waiting_for_its_wal_flush_and_only_its_own_transaction_does(bool deleteOnDelivery)
    {
        var options = new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), DeleteOnDelivery = deleteOnDelivery };
        var store = new PgDurableEventStore(pg.Fixture.DataSource, options);
        await store.InitializeAsync();
        var ids = await store.InsertBatchAsync([new byte[8], new byte[8]], null);

        await using var connection = await pg.Fixture.DataSource.OpenConnectionAsync();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var mark = new NpgsqlCommand(new PgSqlText(options).MarkDelivered, connection, transaction);
            mark.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
            if (!deleteOnDelivery)
            {
                mark.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = TimeProvider.System.GetUtcNow() });
            }

            (await mark.ExecuteNonQueryAsync()).Should().Be(2);
            await using var setting = new NpgsqlCommand("SELECT current_setting('synchronous_commit')", connection, transaction);
            (await setting.ExecuteScalarAsync()).Should().Be("off", "the mark's transaction commits asynchronously");
            await transaction.CommitAsync();
        }

        await using var after = new NpgsqlCommand("SELECT current_setting('synchronous_commit')", connection);
        (await after.ExecuteScalarAsync()).Should().Be("on", "emits on the same pooled connection still wait for their flush");
    }

    /// <summary>
    /// Marks of overlapping rows, each listing its ids in its own order, run at once: none deadlocks (each takes its row
    /// locks in the order its scan reaches the rows, not the array's), and every row is counted by exactly one of them.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Overlapping_marks_in_any_id_order_never_deadlock_and_count_each_row_once(bool deleteOnDelivery)
    {
        var options = new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), DeleteOnDelivery = deleteOnDelivery };
        var store = new PgDurableEventStore(pg.Fixture.DataSource, options);
        await store.InitializeAsync();
        for (var round = 0; round < 10; round++)
        {
            var ids = await store.InsertBatchAsync([.. Enumerable.Repeat((ReadOnlyMemory<byte>)new byte[16], 400)], null);
            var marks = Enumerable.Range(0, 6).Select(m =>
            {
                // Each mark takes most of the rows, shuffled its own way (some reversed outright).
                var random = new Random((round * 10) + m);
                var mine = ids.Where(_ => random.Next(4) != 0).ToArray();
                random.Shuffle(mine);
                if (m % 2 == 1)
                {
                    Array.Sort(mine, (a, b) => b.CompareTo(a));
                }

                return Task.Run(async () => await store.MarkDeliveredBatchAsync(mine));
            }).ToArray();

            var counted = await Task.WhenAll(marks);
            var pending = (await store.ListPendingAsync(TimeProvider.System.GetUtcNow().AddMinutes(1), null, int.MaxValue)).Count(e => ids.Contains(e.Id));
            counted.Sum().Should().Be(ids.Length - pending, "round {0}: each marked row counted once", round);
        }
    }
}
