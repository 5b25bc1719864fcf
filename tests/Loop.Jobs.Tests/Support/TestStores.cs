using Loop.Jobs.Stores.InMemory;
using Loop.Jobs.Stores.Postgres;
using Loop.Testing;

namespace Loop.Jobs.Tests;

/// <summary>The two stores, for tests that run against each.</summary>
public static class TestStores
{
    public static TheoryData<string> Kinds => new() { "memory", "postgres" };

    public static async Task<IJobStore> CreateAsync(string kind, PostgresFixture postgres)
    {
        IJobStore store = kind == "memory"
            ? new MemJobStore()
            : new PgJobStore(postgres.DataSource, new PgJobStoreOptions { TablePrefix = PostgresFixture.UniqueTable() });
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }
}
