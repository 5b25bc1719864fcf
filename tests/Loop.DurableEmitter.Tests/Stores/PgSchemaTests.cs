using Loop.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Tests.Stores;

[Collection(PostgresCollection.Name)]
public sealed class PgSchemaTests(SharedPostgres pg)
{
    [Fact]
    public async Task Initialization_is_idempotent_and_safe_from_many_hosts_at_once()
    {
        var options = new PgDurableEventStoreOptions { Schema = "loop_schema_test", TableName = PostgresFixture.UniqueTable() };

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => new PgDurableEventStore(pg.Fixture.DataSource, options).InitializeAsync().AsTask()));
        await new PgDurableEventStore(pg.Fixture.DataSource, options).InitializeAsync();

        await using var command = pg.Fixture.DataSource.CreateCommand(
            "SELECT version FROM loop_schema_test.loop_schema_versions WHERE component = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = $"durable_events:loop_schema_test.{options.TableName}" });
        (await command.ExecuteScalarAsync()).Should().Be(1);
    }

    [Theory]
    [InlineData("events; DROP TABLE x", "TableName")]
    [InlineData("Events", "TableName")]
    [InlineData("", "TableName")]
    public void Bad_identifiers_are_refused_with_the_setting_named(string table, string setting)
    {
        var create = () => new PgDurableEventStore(pg.Fixture.DataSource, new PgDurableEventStoreOptions { TableName = table });
        create.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage($"*PgDurableEventStoreOptions.{setting}*");
    }
}
