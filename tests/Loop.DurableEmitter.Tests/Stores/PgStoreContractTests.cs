using Loop.Events;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Stores;

/// <summary>The defaults: array inserts, rows deleted on delivery.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgStoreArrayInsertContractTests(SharedPostgres pg) : StoreContractTests
{
    protected override bool KeepsDeliveredRows => false;

    protected override async Task<IDurableEventStore> CreateStoreAsync()
    {
        var store = new PgDurableEventStore(pg.Fixture.DataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable() }, Time);
        await store.InitializeAsync();
        return store;
    }
}

/// <summary>Binary COPY inserts, and delivered rows kept until purged.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgStoreBinaryCopyContractTests(SharedPostgres pg) : StoreContractTests
{
    protected override async Task<IDurableEventStore> CreateStoreAsync()
    {
        var store = new PgDurableEventStore(
            pg.Fixture.DataSource,
            new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), BatchInsertMode = PgBatchInsertMode.BinaryCopy, DeleteOnDelivery = false },
            Time);
        await store.InitializeAsync();
        return store;
    }
}

/// <summary>Statements not prepared (for a pooler that does not keep them).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgStoreUnpreparedContractTests(SharedPostgres pg) : StoreContractTests
{
    protected override bool KeepsDeliveredRows => false;

    protected override async Task<IDurableEventStore> CreateStoreAsync()
    {
        var store = new PgDurableEventStore(pg.Fixture.DataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), PrepareStatements = false }, Time);
        await store.InitializeAsync();
        return store;
    }
}

/// <summary>A multiplexing data source, on which Npgsql cannot prepare statements explicitly.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgStoreMultiplexingContractTests(SharedPostgres pg) : StoreContractTests, IAsyncLifetime
{
    private Npgsql.NpgsqlDataSource? _multiplexing;

    protected override bool KeepsDeliveredRows => false;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_multiplexing is not null)
        {
            await _multiplexing.DisposeAsync();
        }
    }

    protected override async Task<IDurableEventStore> CreateStoreAsync()
    {
        _multiplexing ??= Npgsql.NpgsqlDataSource.Create(new Npgsql.NpgsqlConnectionStringBuilder(pg.Fixture.ConnectionString) { Multiplexing = true });
        var store = new PgDurableEventStore(_multiplexing, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable() }, Time);
        await store.InitializeAsync();
        return store;
    }
}
