// Durable emitter benchmarks. Starts a throwaway PostgreSQL cluster with fsync on (unless LOOP_TEST_POSTGRES names
// a server), then runs BenchmarkDotNet (arguments are passed on) or, with "latency", the latency harness.
//   dotnet run -c Release --project benchmarks/Loop.DurableEmitter.Benchmarks -- --filter '*'
//   dotnet run -c Release --project benchmarks/Loop.DurableEmitter.Benchmarks -- latency
//   dotnet run -c Release --project benchmarks/Loop.DurableEmitter.Benchmarks -- peers [events]   (beside Wolverine and CAP)
using BenchmarkDotNet.Running;
using Loop.DurableEmitter.Benchmarks;
using Loop.DurableEmitter.Benchmarks.Peers;
using Loop.Testing;

PostgresServer? server = null;
if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresServer.ConnectionStringVariable)))
{
    server = await PostgresServer.StartAsync(durable: true);
    Environment.SetEnvironmentVariable(PostgresServer.ConnectionStringVariable, server.ConnectionString);
}

try
{
    if (args.Length > 0 && args[0] == "peers")
    {
        await PeersHarness.RunAsync(Environment.GetEnvironmentVariable(PostgresServer.ConnectionStringVariable)!, args.Length > 1 ? BenchKnobs.Count("peers [events]", args[1]) : 20_000, Console.Out);
    }
    else if (args.Length > 0 && args[0] == "latency")
    {
        await LatencyHarness.RunAsync(Console.Out);
    }
    else
    {
        BenchmarkSwitcher.FromAssembly(typeof(EmitBenchmarks).Assembly).Run(args);
    }
}
catch (ArgumentException bad)
{
    // A knob that names nothing: said plainly, without a stack trace.
    Console.Error.WriteLine(bad.Message);
    Environment.ExitCode = 2;
}
finally
{
    if (server is not null)
    {
        await server.DisposeAsync();
    }
}
