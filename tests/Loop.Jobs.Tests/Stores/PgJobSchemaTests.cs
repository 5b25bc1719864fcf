using Loop.Jobs.Stores.Postgres;
using Loop.Testing;

namespace Loop.Jobs.Tests.Stores;

/// <summary>The PostgreSQL store's schema: created once however many hosts start together, versioned, and refused when newer.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgJobSchemaTests(SharedPostgres postgres)
{
    [Fact]
    public async Task Hosts_starting_together_create_the_tables_once_and_a_newer_schema_is_refused_by_name()
    {
        var prefix = PostgresFixture.UniqueTable();
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix }).InitializeAsync(default)));
        await using (var bump = postgres.Fixture.DataSource.CreateCommand($"UPDATE public.loop_schema_versions SET version = 99 WHERE component = 'jobs:{prefix}'"))
        {
            (await bump.ExecuteNonQueryAsync()).Should().Be(1);
        }

        var start = () => new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix }).InitializeAsync(default);

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage($"*{prefix}_*: schema version 99, newer than this Loop.Jobs understands ({PgJobSchema.CurrentVersion})*");
    }

    [Fact]
    public async Task Tables_of_version_1_are_upgraded_and_keep_their_fires()
    {
        var prefix = PostgresFixture.UniqueTable();
        var store = new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix });
        await store.InitializeAsync(default);

        // Back to version 1 as 0.1.0 left it: no fire run ids, no checkpoints, no heads.
        await using (var downgrade = postgres.Fixture.DataSource.CreateCommand($"""
            DROP TABLE public.{prefix}_checkpoints; DROP TABLE public.{prefix}_heads; ALTER TABLE public.{prefix}_fires DROP COLUMN run_id;
            INSERT INTO public.{prefix}_fires (job_id, initiator, key, fired_at) VALUES ('old', 0, 'cron:1', now());
            UPDATE public.loop_schema_versions SET version = 1 WHERE component = 'jobs:{prefix}'
            """))
        {
            await downgrade.ExecuteNonQueryAsync();
        }

        var upgraded = new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix });
        await upgraded.InitializeAsync(default);

        (await upgraded.GetLastFireAsync("old", 0, default)).Should().NotBeNull();
        (await upgraded.FindFireRunAsync("old", 0, "cron:1", default)).Should().BeNull();
        (await upgraded.SaveHeadAsync("main", new Head(1, "0x01"), default)).Should().BeTrue();
        await upgraded.SaveInitiatorCheckpointAsync("old", 0, 5, default);
        (await upgraded.GetInitiatorCheckpointAsync("old", 0, default)).Should().Be(5);
    }

    [Theory]
    [InlineData("Public", "jobs")]
    [InlineData("public", "jobs; DROP TABLE x")]
    public void Table_names_that_are_not_plain_identifiers_are_refused(string schema, string prefix)
    {
        var create = () => new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { Schema = schema, TablePrefix = prefix });

        create.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*not a lowercase SQL identifier*");
    }
}
