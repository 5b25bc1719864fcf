using Loop.Jobs.Stores.InMemory;
using Loop.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Jobs.Tests;

/// <summary>A started job service on a fake clock, with its store and head tracker at hand.</summary>
public sealed class JobsHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset T0 = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private JobsHarness(IJobStore store, JobService service, FakeTimeProvider clock, ManualHeadTracker? heads, FakeLogCollector logs)
    {
        Store = store;
        Service = service;
        Clock = clock;
        Heads = heads;
        Logs = logs;
    }

    public IJobStore Store { get; }

    public JobService Service { get; }

    public FakeTimeProvider Clock { get; }

    public ManualHeadTracker? Heads { get; }

    public FakeLogCollector Logs { get; }

    public static async Task<JobsHarness> StartAsync(
        IJobStore? store = null,
        IEnumerable<IJobTask>? tasks = null,
        ManualHeadTracker? heads = null,
        Action<LoopJobsOptions>? configure = null,
        FakeTimeProvider? clock = null,
        Loop.DurableEmitter.IDurableEventEmitter? emitter = null,
        IEnumerable<IJobInitiator>? initiators = null)
    {
        store ??= new MemJobStore();
        clock ??= new FakeTimeProvider(T0);
        var options = new LoopJobsOptions();
        configure?.Invoke(options);
        var logs = new FakeLogCollector();
        var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(logs)));
        var service = new JobService(store, options, new Http(), tasks, initiators, heads, emitter, null, clock, loggerFactory);
        await service.StartAsync();
        return new JobsHarness(store, service, clock, heads, logs);
    }

    /// <summary>Waits until the run satisfies <paramref name="condition"/>, and returns it.</summary>
    public async Task<JobRun> WaitForRunAsync(Guid runId, Func<JobRun, bool> condition, string what)
    {
        JobRun? run = null;
        await Eventually.WaitAsync(async () => (run = await Store.GetRunAsync(runId, default)) is not null && condition(run), what);
        return run!;
    }

    /// <summary>Waits until the run is in <paramref name="status"/>.</summary>
    public Task<JobRun> WaitForStatusAsync(Guid runId, RunStatus status) =>
        WaitForRunAsync(runId, r => r.Status == status, $"run {runId} {status.ToName()}");

    /// <summary>Waits until the job has <paramref name="count"/> runs, and returns them.</summary>
    public async Task<IReadOnlyList<JobRun>> WaitForRunsAsync(string jobId, int count)
    {
        IReadOnlyList<JobRun> runs = [];
        await Eventually.WaitAsync(async () => (runs = await Store.ListRunsAsync(jobId, default)).Count >= count, $"{count} run(s) of job {jobId}");
        return runs;
    }

    public async ValueTask DisposeAsync() => await Service.StopAsync();
}
