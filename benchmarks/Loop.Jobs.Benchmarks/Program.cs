// Loop.Jobs measured beside its baselines, in one run on one PostgreSQL cluster (fsync and synchronous_commit on):
//  1. Runs per second of a three-task job (jsonparse -> multiply -> noop), 16 jobs, each job's runs requested by its
//     own caller: Loop.Jobs on PostgreSQL (and in memory, for reference) beside a naive baseline that writes the same
//     run the obvious way (an INSERT, then one transaction with an UPDATE per task, then the final UPDATE). Also the
//     same job with a first task that has an effect (not pure), which Loop.Jobs checkpoints on its own.
//  2. Cron firing lateness, 16 jobs firing every second: how late the first task starts after its occurrence, for
//     Loop.Jobs (PostgreSQL and memory) and Quartz.NET (RAM job store, and its ADO.NET job store on the same PostgreSQL,
//     clustered), the same schedule.
//   dotnet run -c Release --project benchmarks/Loop.Jobs.Benchmarks [-- runs-per-job seconds [lateness]]
using System.Globalization;
using Loop.Jobs.Benchmarks;
using Loop.Testing;

var runsPerJob = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
const int Jobs = 16;

await using var server = await PostgresServer.StartAsync(durable: true);
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"runs: {Jobs} jobs x {runsPerJob} runs, three tasks each; lateness: {Jobs} cron jobs every second for {seconds} s");
Console.WriteLine();

if (args.Length > 2 && args[2] == "lateness")
{
    goto Lateness;
}

if (args.Length > 2 && args[2] == "stall")
{
    Report("Loop.Jobs, PostgreSQL store stalled 0.6 s every 5 s", await Lateness.LoopAsync(server.ConnectionString, Jobs, seconds, memory: false, TimeSpan.FromMilliseconds(600)));
    return;
}

// Warm-up (JIT, connection pools), then two rounds each, alternating, best kept.
await Throughput.LoopAsync(server.ConnectionString, Jobs, 20, memory: false);
await Throughput.NaiveAsync(server.ConnectionString, Jobs, 20);
var results = new Dictionary<string, List<double>>();
for (var round = 0; round < 2; round++)
{
    Add(results, "naive: INSERT + one transaction per task + final UPDATE (PostgreSQL)", await Throughput.NaiveAsync(server.ConnectionString, Jobs, runsPerJob));
    Add(results, "Loop.Jobs, PostgreSQL store", await Throughput.LoopAsync(server.ConnectionString, Jobs, runsPerJob, memory: false));
    Add(results, "Loop.Jobs, PostgreSQL store, first task with an effect", await Throughput.LoopAsync(server.ConnectionString, Jobs, runsPerJob, memory: false, effect: true));
    Add(results, "Loop.Jobs, memory store", await Throughput.LoopAsync(server.ConnectionString, Jobs, runsPerJob, memory: true));
}

Console.WriteLine("| runs/s (three-task job, 16 jobs) | best | other round |");
Console.WriteLine("| --- | ---: | ---: |");
foreach (var (name, rates) in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {rates.Max():N0} | {rates.Min():N0} |"));
}

var naive = results.First().Value.Max();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Loop.Jobs PostgreSQL / naive: {results["Loop.Jobs, PostgreSQL store"].Max() / naive:0.00}x; with an effect first: {results["Loop.Jobs, PostgreSQL store, first task with an effect"].Max() / naive:0.00}x"));
Console.WriteLine();

Lateness:
Console.WriteLine("| cron lateness (first task start - occurrence) | samples | p50 ms | p99 ms | max ms |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
Report("Quartz.NET 4.7 (RAM job store)", await Lateness.QuartzAsync(Jobs, seconds));
Report("Quartz.NET 4.7 (ADO.NET job store on PostgreSQL, clustered)", await Lateness.QuartzAsync(Jobs, seconds, server.ConnectionString));
Report("Quartz.NET 4.7 (ADO.NET job store on PostgreSQL, clustered, 16 triggers acquired 250 ms ahead)", await Lateness.QuartzAsync(Jobs, seconds, server.ConnectionString, batched: true));
Report("Loop.Jobs, PostgreSQL store", await Lateness.LoopAsync(server.ConnectionString, Jobs, seconds, memory: false));
Report("Loop.Jobs, memory store", await Lateness.LoopAsync(server.ConnectionString, Jobs, seconds, memory: true));
Report("Loop.Jobs, PostgreSQL store stalled 0.6 s every 5 s", await Lateness.LoopAsync(server.ConnectionString, Jobs, seconds, memory: false, TimeSpan.FromMilliseconds(600)));

static void Add(Dictionary<string, List<double>> results, string name, double rate)
{
    if (!results.TryGetValue(name, out var rates))
    {
        results[name] = rates = [];
    }

    rates.Add(rate);
}

static void Report(string name, List<double> milliseconds)
{
    milliseconds.Sort();
    double P(double q) => milliseconds[Math.Min(milliseconds.Count - 1, (int)Math.Ceiling(q * milliseconds.Count) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {milliseconds.Count} | {P(0.5):0.0} | {P(0.99):0.0} | {milliseconds[^1]:0.0} |"));
}
