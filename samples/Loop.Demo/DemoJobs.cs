using System.Globalization;
using Loop.Jobs;
using Microsoft.Extensions.Options;

namespace Loop.Demo;

/// <summary>Adds the demo's cron job when the host has started: every 5 s, fetch a price, scale it, emit it.</summary>
public sealed partial class DemoJobs(IJobService jobs, IOptions<DemoOptions> options, IHostApplicationLifetime lifetime, ILogger<DemoJobs> logger, IHeadTracker? chain = null) : IHostedService
{
    /// <summary>The demo's price "feed": a value that moves with the clock.</summary>
    public static string PriceJson(TimeProvider time) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"USD":"{{1000 + (time.GetUtcNow().ToUnixTimeSeconds() % 100) / 4m}}"}""");

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // After the host serves /demo/price, so the first run finds it.
        lifetime.ApplicationStarted.Register(() => _ = AddJobAsync());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task AddJobAsync()
    {
        var demo = options.Value;
        var spec = JobSpec.Parse($$$"""
            {"id": "demo-price",
             "initiators": [{"type": "cron", "params": {"schedule": "*/5 * * * * *"}}, {"type": "web"}],
             "tasks": [{"type": "httpget", "params": {"get": "http://{{{demo.BindAddress}}}:{{{demo.HttpPort}}}/demo/price"}},
                       {"type": "jsonparse", "params": {"path": ["USD"]}},
                       {"type": "multiply", "params": {"times": 100}},
                       {"type": "emit", "params": {"source": "loop-demo/jobs", "type": "demo.price"}}]}
            """);
        await AddAsync(spec);
        if (chain is not null)
        {
            // Started by a RunRequest log addressed to demo-chain (any contract) or by POST /v2/jobs/demo-chain/runs;
            // either way the run waits for 2 blocks on the chain, then emits its input.
            await AddAsync(JobSpec.Parse("""
                {"id": "demo-chain",
                 "initiators": [{"type": "runlog"}, {"type": "web"}],
                 "minConfirmations": 2,
                 "tasks": [{"type": "emit", "params": {"source": "loop-demo/chain", "type": "demo.chain.request"}}]}
                """));
        }
    }

    private async Task AddAsync(JobSpec spec)
    {
        try
        {
            await jobs.AddJobAsync(spec);
            LogJobAdded(logger, spec.Id, spec.Initiators.Count, spec.Tasks.Count);
        }
        catch (JobValidationException ex)
        {
            LogJobRefused(logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "job {JobId} added ({Initiators} initiator(s), {Tasks} task(s)); POST /v2/jobs/{JobId}/runs starts a run")]
    private static partial void LogJobAdded(ILogger logger, string jobId, int initiators, int tasks);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "demo job refused: {Reason}")]
    private static partial void LogJobRefused(ILogger logger, string reason);
}
