using System.Text.Json.Nodes;
using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Tests.Hosting;

/// <summary>Custom task and initiator types registered through dependency injection, and the HTTP POST task.</summary>
public sealed class ExtensionPointTests
{
    [Fact]
    public async Task A_custom_initiator_is_started_for_its_jobs_on_add_and_stopped_on_archive_and_a_custom_task_runs()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ManualInitiator>();
        builder.Services.AddLoopJobs().UseInMemoryStore().AddTask<RecordTask>().AddInitiator<ManualInitiator>();
        using var host = builder.Build();
        await host.StartAsync();
        var jobs = host.Services.GetRequiredService<IJobService>();
        var initiator = (ManualInitiator)host.Services.GetServices<IJobInitiator>().Single();
        var record = (RecordTask)host.Services.GetServices<IJobTask>().Single();

        var refused = await FluentActions.Awaiting(() => jobs.AddJobAsync(new JobSpec { Initiators = [new InitiatorSpec("manual")], Tasks = [new TaskSpec("record")] }))
            .Should().ThrowAsync<JobValidationException>();
        refused.Which.Errors.Should().ContainSingle(e => e.Path == "initiators[0].params.topic");
        var job = await jobs.AddJobAsync(new JobSpec { Initiators = [new InitiatorSpec("Manual", new JsonObject { ["topic"] = "prices" })], Tasks = [new TaskSpec("RECORD")] });
        initiator.Watching.Should().ContainKey(job.Id);

        var run = await initiator.Watching[job.Id](JsonValue.Create("tick"));

        await Eventually.WaitAsync(async () => (await jobs.GetRunAsync(run!.Id))?.Status == RunStatus.Completed, "the initiated run completed");
        record.Executions.Should().ContainSingle(e => e.Run == run!.Id);
        (await jobs.GetRunAsync(run!.Id))!.InitiatorType.Should().Be("manual");

        await jobs.ArchiveJobAsync(job.Id);
        initiator.Watching.Should().NotContainKey(job.Id);
        await host.StopAsync();
    }

    [Fact]
    public void Two_task_types_of_one_name_are_a_registration_error_naming_both()
    {
        var create = () => new JobService(new Loop.Jobs.Stores.InMemory.MemJobStore(), new LoopJobsOptions(), new Http(), [new RecordTask(), new RecordTask()]);

        create.Should().Throw<InvalidOperationException>().WithMessage("*Two task types are named 'record'*");
    }

    [Fact]
    public async Task The_http_post_task_sends_its_input_and_returns_the_answer()
    {
        await using var adapter = await TestAdapter.StartAsync();
        adapter.Answer = """{"accepted":true}""";
        await using var jobs = await JobsHarness.StartAsync();
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("httppost", new JsonObject { ["post"] = adapter.Url.ToString() })] });

        var run = await jobs.Service.TriggerRunAsync(job.Id, JsonNode.Parse("""{"price":7}"""));

        var done = await jobs.WaitForStatusAsync(run.Id, RunStatus.Completed);
        done.Data!["accepted"]!.GetValue<bool>().Should().BeTrue();
        adapter.Requests.Single().Body!["price"]!.GetValue<int>().Should().Be(7);
    }

    /// <summary>An event initiator started by hand: each job it watches gets a function that starts a run.</summary>
    public sealed class ManualInitiator : IJobInitiator
    {
        public Dictionary<string, Func<JsonNode?, Task<JobRun?>>> Watching { get; } = [];

        public string Type => "manual";

        public IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now)
        {
            if (initiator.Params["topic"] is null)
            {
                yield return new JobValidationError("topic", "is required");
            }
        }

        public ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken)
        {
            Watching[job.Id] = input => runs.StartRunAsync(job, initiatorIndex, input, null, null, CancellationToken.None);
            return ValueTask.FromResult<IAsyncDisposable?>(new Stop(() => Watching.Remove(job.Id)));
        }

        private sealed class Stop(Action stop) : IAsyncDisposable
        {
            public ValueTask DisposeAsync()
            {
                stop();
                return ValueTask.CompletedTask;
            }
        }
    }
}
