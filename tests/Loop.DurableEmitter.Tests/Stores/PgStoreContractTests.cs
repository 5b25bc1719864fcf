using Loop.Events;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Stores;

[Collection(PostgresCollection.Name)]
public sealed class PgStoreArrayInsertContractTests(SharedPostgres pg) : StoreContractTests
{
    protected override async Task<IDurableEventStore> CreateStoreAsync()
    {
        var store = new PgDurableEventStore(pg.Fixture.DataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable() }, Time);
        await store.InitializeAsync();
        return store;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PgStoreBinaryCopyContractTests(SharedPostgres pg) : StoreContractTests
{
    protected override async Task<IDurableEventStore> CreateStoreAsync()
    {
        var store = new PgDurableEventStore(
            pg.Fixture.DataSource,
            new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), BatchInsertMode = PgBatchInsertMode.BinaryCopy },
            Time);
        await store.InitializeAsync();
        return store;
    }
}
