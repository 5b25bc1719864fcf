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
