using Loop.Testing;

namespace Loop.Jobs.Tests;

/// <summary>One PostgreSQL server for every test class in the collection (xunit wants the definition in each assembly).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<SharedPostgres>
{
    public const string Name = "postgres";
}
