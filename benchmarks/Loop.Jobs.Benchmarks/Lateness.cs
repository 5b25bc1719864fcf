using System.Collections.Concurrent;
using Loop.Jobs.Stores.InMemory;
using Loop.Jobs.Stores.Postgres;
using Npgsql;
using Quartz;
using Microsoft.Extensions.DependencyInjection;

namespace Loop.Jobs.Benchmarks;

/// <summary>
/// How late a job's code starts after its cron occurrence (every second, so the occurrence is the whole second before
/// the start): Loop.Jobs (a first task that notes the time) beside Quartz.NET (a job that notes the time), same schedule.
/// </summary>
internal static class Lateness
{
    /// <summary>
    /// Loop.Jobs' lateness; with <paramref name="stall"/>, the store stalls that long every 5 s (another session holds
    /// the runs table locked, as a checkpoint's fsync or a long lock would), at a phase that moves through the second.
    /// </summary>
    public static async Task<List<double>> LoopAsync(string connectionString, int jobs, int seconds, bool memory, TimeSpan stall = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var prefix = $"late_{Guid.NewGuid():N}"[..20];
        IJobStore store = memory ? new MemJobStore() : new PgJobStore(dataSource, new PgJobStoreOptions { TablePrefix = prefix });
        var stamp = new StampTask();
        await using var service = new JobService(store, new LoopJobsOptions { MaxConcurrentRuns = jobs }, new Throughput.Clients(), [stamp]);
        await service.StartAsync();
        for (var j = 0; j < jobs; j++)
        {
            await service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron("* * * * * *")], Tasks = [new TaskSpec("stamp")] });
        }

        using var stopStalls = new CancellationTokenSource();
        var stalls = stall > TimeSpan.Zero ? StallAsync(dataSource, $"public.{prefix}_runs", stall, stopStalls.Token) : Task.CompletedTask;
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await stopStalls.CancelAsync();
        await stalls;
        await service.StopAsync();
        return [.. stamp.Late.Skip(jobs)];
    }

    private static async Task StallAsync(NpgsqlDataSource dataSource, string table, TimeSpan stall, CancellationToken cancellationToken)
    {
        try
        {
            for (var i = 0; ; i++)
            {
                await Task.Delay(TimeSpan.FromSeconds(5) + TimeSpan.FromMilliseconds(130 * i % 1000), cancellationToken);
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using var command = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({stall.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)})", connection, transaction);
                await command.ExecuteNonQueryAsync(CancellationToken.None);
                await transaction.CommitAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Quartz.NET on its RAM job store, or (with <paramref name="connectionString"/>) on its ADO.NET job store in
    /// PostgreSQL (its own schema, provisioned), clustered as Loop.Jobs' store is shared by hosts, job data as JSON;
    /// otherwise its defaults.
    /// </summary>
    /// With <paramref name="batched"/>, Quartz acquires up to <paramref name="jobs"/> triggers at once up to 250 ms ahead
    /// of their time (<c>MaxBatchSize</c>, <c>BatchTriggerAcquisitionFireAheadTimeWindow</c>): as Loop.Jobs writes its
    /// fires 250 ms ahead.
    public static async Task<List<double>> QuartzAsync(int jobs, int seconds, string? connectionString = null, bool batched = false)
    {
        var prefix = $"qz{Guid.NewGuid():N}"[..14] + "_";
        var services = new ServiceCollection();
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = prefix;
                if (batched)
                {
                    s.MaxBatchSize = jobs;
                    s.BatchTriggerAcquisitionFireAheadTimeWindow = TimeSpan.FromMilliseconds(250);
                }
            });
            q.UseDefaultThreadPool(maxConcurrency: jobs);
            if (connectionString is not null)
            {
                q.UsePersistentStore(store =>
                {
                    store.UsePostgres(pg => pg.ConnectionString = connectionString);
                    store.ConfigureStore(ado => ado.TablePrefix = prefix);

                    // Quartz creates its own tables (its schema script, under this run's prefix).
                    store.ProvisionSchema();
                    store.UseSystemTextJsonSerializer();
                    store.UseClustering();
                });
            }
        });
        await using var provider = services.BuildServiceProvider();
        var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
        StampJob.Late.Clear();
        for (var j = 0; j < jobs; j++)
        {
            var job = JobBuilder.Create<StampJob>().WithIdentity($"job{j}").Build();
            var trigger = TriggerBuilder.Create().WithIdentity($"trigger{j}").WithCronSchedule("* * * * * ?").Build();
            await scheduler.ScheduleJob(job, trigger);
        }

        await scheduler.Start();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await scheduler.Shutdown(waitForJobsToComplete: true);
        return [.. StampJob.Late.Skip(jobs)];
    }

    private static double SinceOccurrence()
    {
        var now = TimeProvider.System.GetUtcNow();
        return (now - new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero)).TotalMilliseconds;
    }

    private sealed class StampTask : IJobTask
    {
        public ConcurrentQueue<double> Late { get; } = new();

        public string Type => "stamp";

        public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
        {
            Late.Enqueue(SinceOccurrence());
            return ValueTask.FromResult(TaskResult.Completed(null));
        }
    }

    private sealed class StampJob : IJob
    {
        public static ConcurrentQueue<double> Late { get; } = new();

        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            Late.Enqueue(SinceOccurrence());
            return ValueTask.CompletedTask;
        }
    }
}
