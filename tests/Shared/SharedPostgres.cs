namespace Loop.Testing;

/// <summary>
/// xunit lifetime around <see cref="PostgresFixture"/>, for a test assembly's PostgreSQL collection. Linked into each test
/// project that has one (xunit wants a collection's definition in the assembly of its tests; Loop.Testing takes no
/// xunit dependency, since the benchmarks use it too).
/// </summary>
public sealed class SharedPostgres : IAsyncLifetime
{
    public PostgresFixture Fixture { get; } = new();

    public Task InitializeAsync() => Fixture.InitializeAsync();

    public async Task DisposeAsync() => await Fixture.DisposeAsync();
}
