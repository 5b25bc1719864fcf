using Loop.Jobs.Stores.Postgres;
using Loop.Testing;

namespace Loop.Jobs.Tests.Stores;

[Collection(PostgresCollection.Name)]
public sealed class PgJobStoreContractTests(SharedPostgres postgres) : JobStoreContractTests
{
    protected override async Task<IJobStore> CreateStoreAsync()
    {
        var store = new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = PostgresFixture.UniqueTable() });
        await store.InitializeAsync(default);
        return store;
    }
}
