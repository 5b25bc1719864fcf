using System.Text.Json.Nodes;
using Loop.Jobs;
using Loop.Jobs.Stores.Postgres;
using Npgsql;

// Usage: Loop.Jobs.TestHost <connection string> <table prefix> <host id> <folder> [max concurrent runs]
// Journals "<host> <run> <task> start" to <folder>/journal for every `journal` task it starts; a task with
// {"hold": true} then waits until <folder>/release exists. Runs until killed; prints "ready" once started.
var (connectionString, prefix, hostId, folder) = (args[0], args[1], args[2], args[3]);
await using var dataSource = NpgsqlDataSource.Create(connectionString);
var options = new LoopJobsOptions { HostId = hostId, RunLease = TimeSpan.FromSeconds(3), HttpTimeout = TimeSpan.FromSeconds(1), PollInterval = TimeSpan.FromMilliseconds(200) };
if (args.Length > 4)
{
    options.MaxConcurrentRuns = int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
}

var service = new JobService(new PgJobStore(dataSource, new PgJobStoreOptions { TablePrefix = prefix }), options, new Clients(), [new JournalTask(hostId, folder)]);
await service.StartAsync();
Console.WriteLine("ready");
await Task.Delay(Timeout.Infinite);

internal sealed class JournalTask(string hostId, string folder) : IJobTask
{
    private static readonly Lock Gate = new();

    public string Type => "journal";

    public async ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            File.AppendAllText(Path.Combine(folder, "journal"), $"{hostId} {context.RunId} {context.TaskIndex} start\n");
        }

        if (context.Task.Params["hold"] is JsonValue hold && hold.GetValue<bool>())
        {
            while (!File.Exists(Path.Combine(folder, "release")))
            {
                await Task.Delay(20, cancellationToken);
            }
        }

        return TaskResult.Completed(context.Input);
    }
}

internal sealed class Clients : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new();
}
