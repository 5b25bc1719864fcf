// Plugin benchmarks.
//   dotnet run -c Release --project benchmarks/Loop.Plugins.Benchmarks -- --filter '*'     (unary round trip)
//   dotnet run -c Release --project benchmarks/Loop.Plugins.Benchmarks -- plugins [rounds] (start to healthy, relaunch
//       after SIGKILL and round-trip percentiles: JIT, ReadyToRun, Native AOT and Go plugins in one run)
using System.Globalization;
using BenchmarkDotNet.Running;
using Loop.Plugins.Benchmarks;

if (args.Length > 0 && args[0] is "plugins" or "startup")
{
    await PluginHarness.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20, Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(RoundTripBenchmarks).Assembly).Run(args);
