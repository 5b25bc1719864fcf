using System.Globalization;
using Loop.Jobs;
using Microsoft.Extensions.Options;

namespace Loop.Demo;

/// <summary>Adds the demo's cron job when the host has started: every 5 s, fetch a price, scale it, emit it.</summary>
public sealed partial class DemoJobs(IJobService jobs, IOptions<DemoOptions> options, IHostApplicationLifetime lifetime, ILogger<DemoJobs> logger) : IHostedService
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
        try
        {
            await jobs.AddJobAsync(spec);
            LogJobAdded(logger, spec.Id);
        }
        catch (JobValidationException ex)
        {
            LogJobRefused(logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "job {JobId} added: every 5 s (and on POST /v2/jobs/{JobId}/runs) httpget /demo/price -> jsonparse -> multiply -> emit")]
    private static partial void LogJobAdded(ILogger logger, string jobId);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "demo job refused: {Reason}")]
    private static partial void LogJobRefused(ILogger logger, string reason);
}
