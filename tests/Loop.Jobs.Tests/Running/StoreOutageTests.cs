using System.Net;
using Loop.Jobs.Stores.Postgres;
using Loop.Testing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Loop.Jobs.Tests.Running;

/// <summary>A job store that refuses and one that hangs: the outage is a warning when it starts, the health check says why, and a line when it ends; runs go on after.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StoreOutageTests(SharedPostgres postgres)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_store_outage_is_reported_while_it_lasts_and_runs_go_on_when_it_ends(bool hang)
    {
        var target = new NpgsqlConnectionStringBuilder(postgres.Fixture.ConnectionString);
        await using var forwarder = new TcpForwarder(new IPEndPoint(IPAddress.Loopback, target.Port));
        forwarder.Open();
        target.Port = forwarder.Port;
        target.Timeout = 2;
        target.CommandTimeout = 2;
        await using var dataSource = NpgsqlDataSource.Create(target.ConnectionString);
        await using var jobs = await JobsHarness.StartAsync(new PgJobStore(dataSource, new PgJobStoreOptions { TablePrefix = PostgresFixture.UniqueTable() }));
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] });
        await jobs.WaitForStatusAsync((await jobs.Service.TriggerRunAsync(job.Id)).Id, RunStatus.Completed);
        jobs.Service.GetHealthReport()["Jobs.Store"].Should().BeNull();

        if (hang)
        {
            forwarder.Stall();
        }
        else
        {
            await forwarder.CloseAsync();
        }

        await Eventually.WaitAsync(
            () =>
            {
                jobs.Clock.Advance(TimeSpan.FromSeconds(1));
                return jobs.Service.GetHealthReport()["Jobs.Store"] is not null;
            },
            "the health report to name the failing store");
        jobs.Service.GetHealthReport()["Jobs.Store"]!.Message.Should().StartWith("the job store is failing: ");

        // The outage is recorded (and so in the health report) just before its warning is written.
        await Eventually.WaitAsync(() => jobs.Logs.GetSnapshot().Any(r => r.Message.StartsWith("The job store is failing", StringComparison.Ordinal)), "the warning that the store is failing");
        jobs.Logs.GetSnapshot().Should().ContainSingle(r => r.Level == LogLevel.Warning && r.Message.StartsWith("The job store is failing", StringComparison.Ordinal));

        if (hang)
        {
            forwarder.Resume();
        }
        else
        {
            forwarder.Open();
        }

        await Eventually.WaitAsync(
            () =>
            {
                jobs.Clock.Advance(TimeSpan.FromSeconds(1));
                return jobs.Service.GetHealthReport()["Jobs.Store"] is null;
            },
            "the store back");
        await Eventually.WaitAsync(() => jobs.Logs.GetSnapshot().Any(r => r.Message.StartsWith("The job store is back", StringComparison.Ordinal)), "the line saying the store is back");
        await jobs.WaitForStatusAsync((await jobs.Service.TriggerRunAsync(job.Id)).Id, RunStatus.Completed);
    }
}
