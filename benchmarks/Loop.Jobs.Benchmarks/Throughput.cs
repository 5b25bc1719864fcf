using System.Diagnostics;
using System.Text.Json.Nodes;
using Loop.Jobs.Stores.InMemory;
using Loop.Jobs.Stores.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Loop.Jobs.Benchmarks;

/// <summary>Runs per second of a three-task job: Loop.Jobs beside the naive way of writing the same runs.</summary>
internal static class Throughput
{
    private static readonly string Spec = """
        {"initiators":[{"type":"web"}],"tasks":[{"type":"jsonparse","params":{"path":["quote","USD"]}},{"type":"multiply","params":{"times":100}},{"type":"noop"}]}
        """;

    // The same job with an effect first (a task that is not pure): its completion is written before the next task, and
    // its run's end before the job's next run starts.
    private static readonly string EffectSpec = """
        {"initiators":[{"type":"web"}],"tasks":[{"type":"effect"},{"type":"jsonparse","params":{"path":["quote","USD"]}},{"type":"multiply","params":{"times":100}}]}
        """;

    private static readonly JsonNode Input = JsonNode.Parse("""{"quote":{"USD":"1234.5"}}""")!;

    public static async Task<double> LoopAsync(string connectionString, int jobs, int runsPerJob, bool memory, bool effect = false)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        IJobStore store = memory ? new MemJobStore() : new PgJobStore(dataSource, new PgJobStoreOptions { TablePrefix = $"bench_{Guid.NewGuid():N}"[..20] });
        await using var service = new JobService(store, new LoopJobsOptions { MaxConcurrentRuns = jobs }, new Clients(), [new EffectTask()]);
        await service.StartAsync();
        var ids = new List<string>();
        for (var j = 0; j < jobs; j++)
        {
            ids.Add((await service.AddJobAsync(JobSpec.Parse(effect ? EffectSpec : Spec))).Id);
        }

        var clock = Stopwatch.StartNew();
        var runs = await Task.WhenAll(ids.Select(async id =>
        {
            var last = Guid.Empty;
            for (var r = 0; r < runsPerJob; r++)
            {
                last = (await service.TriggerRunAsync(id, Input)).Id;
            }

            return last;
        }));

        var triggered = clock.Elapsed;

        // Runs of a job finish in order: the job's last run completed means all of them did.
        foreach (var last in runs)
        {
            while ((await store.GetRunAsync(last, default))!.Status != RunStatus.Completed)
            {
                await Task.Delay(5);
            }
        }

        var rate = jobs * runsPerJob / clock.Elapsed.TotalSeconds;
        if (Environment.GetEnvironmentVariable("LOOP_BENCH_VERBOSE") is not null)
        {
            Console.WriteLine(System.FormattableString.Invariant($"  ({(memory ? "memory" : "postgres")}: all triggered after {triggered.TotalMilliseconds:0} ms, all done after {clock.Elapsed.TotalMilliseconds:0} ms)"));
        }

        foreach (var id in ids)
        {
            foreach (var run in await store.ListRunsAsync(id, default))
            {
                if (run.Status != RunStatus.Completed || run.Data!.GetValue<decimal>() != 123450m)
                {
                    throw new InvalidOperationException($"{run} did not complete with 123450");
                }
            }
        }

        return rate;
    }

    public static async Task<double> NaiveAsync(string connectionString, int jobs, int runsPerJob)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var table = $"naive_{Guid.NewGuid():N}"[..20];
        await using (var create = dataSource.CreateCommand($"CREATE TABLE {table} (id uuid PRIMARY KEY, job_id text NOT NULL, status text NOT NULL, task_index int NOT NULL, data json, created_at timestamptz NOT NULL, finished_at timestamptz)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, jobs).Select(j => Task.Run(async () =>
        {
            for (var r = 0; r < runsPerJob; r++)
            {
                var id = Guid.NewGuid();
                await using var connection = await dataSource.OpenConnectionAsync();
                await using (var insert = new NpgsqlCommand($"INSERT INTO {table} (id, job_id, status, task_index, data, created_at) VALUES ($1, $2, 'in_progress', 0, $3, now())", connection))
                {
                    insert.Parameters.Add(new NpgsqlParameter { Value = id });
                    insert.Parameters.Add(new NpgsqlParameter { Value = $"job{j}" });
                    insert.Parameters.Add(new NpgsqlParameter { Value = Input.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Json });
                    await insert.ExecuteNonQueryAsync();
                }

                // The same three tasks, each result written in a transaction of its own.
                JsonNode? data = Input;
                JsonNode?[] outputs = [data["quote"]!["USD"], null, null];
                outputs[1] = JsonValue.Create(decimal.Parse(outputs[0]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) * 100);
                outputs[2] = outputs[1];
                for (var task = 0; task < 3; task++)
                {
                    await using var transaction = await connection.BeginTransactionAsync();
                    await using var update = new NpgsqlCommand($"UPDATE {table} SET task_index = $2, data = $3 WHERE id = $1", connection, transaction);
                    update.Parameters.Add(new NpgsqlParameter { Value = id });
                    update.Parameters.Add(new NpgsqlParameter { Value = task + 1 });
                    update.Parameters.Add(new NpgsqlParameter { Value = outputs[task]!.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Json });
                    await update.ExecuteNonQueryAsync();
                    await transaction.CommitAsync();
                }

                await using var done = new NpgsqlCommand($"UPDATE {table} SET status = 'completed', finished_at = now() WHERE id = $1", connection);
                done.Parameters.Add(new NpgsqlParameter { Value = id });
                await done.ExecuteNonQueryAsync();
            }
        })));
        return jobs * runsPerJob / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A task with an effect (as far as the runner knows): it passes its input on.</summary>
    private sealed class EffectTask : IJobTask
    {
        public string Type => "effect";

        public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken) => ValueTask.FromResult(TaskResult.Completed(context.Input));
    }

    internal sealed class Clients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new();
    }
}
