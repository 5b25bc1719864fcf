using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Loop.Jobs.Ethereum.Tests;

/// <summary>A .NET host as a user builds one: the job service on a store, on the chain at a URL, started and stopped.</summary>
public sealed class ChainHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ChainHost(IHost host, FakeLogCollector logs)
    {
        _host = host;
        Logs = logs;
    }

    public IServiceProvider Services => _host.Services;

    public IJobService Jobs => Services.GetRequiredService<IJobService>();

    public IJobStore Store => Services.GetRequiredService<IJobStore>();

    public HeadTracker Heads => Services.GetRequiredService<HeadTracker>();

    public FakeLogCollector Logs { get; }

    /// <summary>
    /// Starts a host on <paramref name="url"/>, keeping jobs in PostgreSQL (<paramref name="postgres"/> and a table
    /// prefix) or memory; <paramref name="services"/> adds or replaces services after the host's own.
    /// </summary>
    public static async Task<ChainHost> StartAsync(Uri url, PostgresFixture? postgres = null, string? prefix = null, TimeProvider? clock = null, Action<EthereumChainOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var logs = new FakeLogCollector();
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(logs));
        if (clock is not null)
        {
            builder.Services.AddSingleton(clock);
        }

        var jobs = builder.Services.AddLoopJobs();
        if (postgres is not null)
        {
            jobs.UsePostgres(_ => postgres.DataSource).ConfigurePostgres(o => o.TablePrefix = prefix ?? PostgresFixture.UniqueTable());
        }
        else
        {
            jobs.UseInMemoryStore();
        }

        jobs.UseEthereum(o =>
        {
            o.Url = url;
            o.ReconnectDelay = TimeSpan.FromMilliseconds(50);
            o.MaxReconnectDelay = TimeSpan.FromMilliseconds(200);
            configure?.Invoke(o);
        });
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new ChainHost(host, logs);
    }

    public async Task<HealthReport> HealthAsync() => await Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    /// <summary>Waits until the job has <paramref name="count"/> runs satisfying <paramref name="condition"/>, and returns all its runs.</summary>
    public async Task<IReadOnlyList<JobRun>> WaitForRunsAsync(string jobId, int count, Func<JobRun, bool>? condition = null, string? what = null)
    {
        IReadOnlyList<JobRun> runs = [];
        await Eventually.WaitAsync(async () => (runs = await Store.ListRunsAsync(jobId, default)).Count(condition ?? (_ => true)) >= count, what ?? $"{count} run(s) of job {jobId}");
        return runs;
    }

    public async Task<JobRun> WaitForStatusAsync(Guid runId, RunStatus status)
    {
        JobRun? run = null;
        await Eventually.WaitAsync(async () => (run = await Store.GetRunAsync(runId, default))?.Status == status, $"run {runId} {status.ToName()}");
        return run!;
    }

    /// <summary>Waits until the head tracker holds block <paramref name="number"/> (or later).</summary>
    public Task WaitForHeadAsync(long number) =>
        Eventually.WaitAsync(() => Heads.Head?.Number >= number, $"head {number} tracked (holds {Heads.Head?.Number})");

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
