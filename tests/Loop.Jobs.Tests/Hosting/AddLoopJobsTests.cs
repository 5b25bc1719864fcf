using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Loop.Events.CloudEvents;
using Loop.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Jobs.Tests.Hosting;

/// <summary>The job service in a .NET host: options from configuration, validation at start, the emit task, the reaper, health.</summary>
public sealed class AddLoopJobsTests
{
    [Fact]
    public async Task Bad_options_fail_the_start_with_every_error_and_its_configuration_path()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Loop:Jobs:MaxConcurrentRuns"] = "0",
            ["Loop:Jobs:RunLease"] = "00:00:05",
            ["Loop:Jobs:HttpTimeout"] = "00:00:10",
            ["Loop:Jobs:PollInterval"] = "-00:00:01",
        });
        builder.Services.AddLoopJobs(builder.Configuration.GetSection("Loop:Jobs")).UseInMemoryStore();
        using var host = builder.Build();

        var failure = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        failure.Failures.Should().Contain(f => f.StartsWith("Loop:Jobs:MaxConcurrentRuns must be 1 to 4096", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("Loop:Jobs:RunLease must be longer than HttpTimeout", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("Loop:Jobs:PollInterval must be positive", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_without_a_store_fails_its_start_naming_the_fix_and_a_second_registration_is_refused()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddLoopJobs();
        using var host = builder.Build();

        (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).WithMessage("*UsePostgres(...)*UseInMemoryStore()*");
        FluentActions.Invoking(() => builder.Services.AddLoopJobs()).Should().Throw<InvalidOperationException>().WithMessage("*twice*");
    }

    [Fact]
    public async Task The_emit_task_sends_its_input_through_the_durable_emitter_and_the_host_is_healthy()
    {
        var delivered = new ConcurrentQueue<CloudEvent>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDurableEmitter().UseInMemoryStore().UseInMemoryTransport(_ => (batch, _) =>
        {
            foreach (var e in batch)
            {
                delivered.Enqueue(e);
            }

            return ValueTask.CompletedTask;
        });
        builder.Services.AddLoopJobs().UseInMemoryStore();
        using var host = builder.Build();
        await host.StartAsync();
        var jobs = host.Services.GetRequiredService<IJobService>();
        var job = await jobs.AddJobAsync(JobSpec.Parse("""
            {"initiators":[{"type":"web"}],"tasks":[{"type":"multiply","params":{"times":2}},{"type":"emit","params":{"source":"loop/jobs","type":"price.updated"}}]}
            """));

        var run = await jobs.TriggerRunAsync(job.Id, JsonValue.Create(21));

        await Eventually.WaitAsync(() => !delivered.IsEmpty, "the event delivered");
        var ev = delivered.Single();
        ev.Source.Should().Be("loop/jobs");
        ev.Type.Should().Be("price.updated");
        ev.ProtoData.Value.ToStringUtf8().Should().Be("42");
        ev.Attributes["datacontenttype"].CeString.Should().Be("application/json");
        ev.Attributes["idempotencykey"].CeString.Should().Be($"{run.Id:N}/1");
        await Eventually.WaitAsync(async () => (await jobs.GetRunAsync(run.Id))?.Status == RunStatus.Completed, "the run completed");
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        health.Entries["Jobs"].Status.Should().Be(HealthStatus.Healthy);
        await host.StopAsync();
    }

    [Fact]
    public async Task An_emit_job_is_refused_when_no_emitter_is_registered()
    {
        await using var jobs = await JobsHarness.StartAsync();

        (await FluentActions.Awaiting(() => jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("emit")] }))
            .Should().ThrowAsync<JobValidationException>()).Which.Errors.Select(e => e.Path).Should().BeEquivalentTo("tasks[0].params.source", "tasks[0].params.type", "tasks[0].params.type");
    }

    [Fact]
    public async Task The_reaper_deletes_finished_runs_past_the_retention_and_keeps_the_rest()
    {
        var clock = new FakeTimeProvider(JobsHarness.T0);
        await using var jobs = await JobsHarness.StartAsync(clock: clock, tasks: [new ExternalTask()], configure: o => { o.RunRetention = TimeSpan.FromHours(1); o.ReaperInterval = TimeSpan.FromMinutes(10); });
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] });
        var pendingJob = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("external")] });
        var old = await jobs.Service.TriggerRunAsync(job.Id);
        var pending = await jobs.Service.TriggerRunAsync(pendingJob.Id);
        await jobs.WaitForStatusAsync(old.Id, RunStatus.Completed);
        await jobs.WaitForStatusAsync(pending.Id, RunStatus.PendingBridge);
        clock.Advance(TimeSpan.FromMinutes(50));
        var recent = await jobs.Service.TriggerRunAsync(job.Id);
        await jobs.WaitForStatusAsync(recent.Id, RunStatus.Completed);

        clock.Advance(TimeSpan.FromMinutes(20));

        await Eventually.WaitAsync(async () => await jobs.Store.GetRunAsync(old.Id, default) is null, "the old run reaped");
        (await jobs.Store.GetRunAsync(recent.Id, default)).Should().NotBeNull();
        (await jobs.Store.GetRunAsync(pending.Id, default)).Should().NotBeNull("a pending run is never reaped");
    }

    [Fact]
    public void Every_message_of_the_package_has_its_own_event_id_in_its_range()
    {
        var ids = typeof(global::Loop.Jobs.Telemetry.JobsLog).GetNestedType("EventIds", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        EventIdCheck.Duplicates(ids).Should().BeEmpty();
        EventIdCheck.Values(ids).Should().OnlyContain(v => v >= 600 && v < 700);
        EventIdCheck.Count(ids).Should().Be(25);
    }
}
