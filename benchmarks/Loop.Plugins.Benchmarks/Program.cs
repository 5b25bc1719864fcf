// Plugin benchmarks.
//   dotnet run -c Release --project benchmarks/Loop.Plugins.Benchmarks -- --filter '*'     (unary round trip)
//   dotnet run -c Release --project benchmarks/Loop.Plugins.Benchmarks -- startup [rounds] (start to healthy)
using System.Globalization;
using BenchmarkDotNet.Running;
using Loop.Plugins.Benchmarks;

if (args.Length > 0 && args[0] == "startup")
{
    await StartupHarness.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20, Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(RoundTripBenchmarks).Assembly).Run(args);
