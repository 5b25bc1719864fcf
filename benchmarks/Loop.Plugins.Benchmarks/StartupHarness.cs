using System.Diagnostics;
using System.Globalization;
using Loop.Testing;

namespace Loop.Plugins.Benchmarks;

/// <summary>
/// Plugin start to healthy (exec → handshake line → connected → health SERVING), per round, for the .NET sample plugin
/// (JIT and Native AOT) and the Go plugin (go-plugin 1.0.1), each round a fresh process, killed gracefully after.
/// </summary>
internal static class StartupHarness
{
    public static async Task RunAsync(int rounds, TextWriter output)
    {
        var (goPlugin, _) = await GoToolchain.BuildOnceAsync();
        output.WriteLine($"rounds: {rounds}");
        output.WriteLine("| plugin | handshake line, median ms | healthy, median ms | healthy, p90 ms | healthy, min ms | healthy, max ms |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- |");
        await MeasureAsync(".NET sample plugin (JIT)", Plugins.DotnetPlugin, rounds, output);
        // BENCH_AOT_PLUGIN names an already published AOT plugin (to compare builds); else the harness publishes one.
        var aot = Environment.GetEnvironmentVariable("BENCH_AOT_PLUGIN") is { Length: > 0 } published
            ? published
            : (await AotSamplePlugin.PublishOnceAsync()).Binary;
        await MeasureAsync(".NET sample plugin (Native AOT)", aot, rounds, output);
        await MeasureAsync("Go plugin (go-plugin 1.0.1)", goPlugin, rounds, output);
    }

    private static async Task MeasureAsync(string name, string path, int rounds, TextWriter output)
    {
        var times = new List<double>();
        var handshakes = new List<double>();
        var registry = new LoopRegistry(new PortPool(21_100, 21_199));
        var factory = LoopCommands.RegisterLoop(registry, new CmdConfig(name, path));
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            await using var client = await PluginClient.StartAsync(factory(), Plugins.Handshake);
            handshakes.Add(clock.Elapsed.TotalMilliseconds);
            if (!await client.PingAsync(TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException($"{name} is not healthy");
            }

            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        registry.Unregister(name);
        times.Sort();
        handshakes.Sort();
        double P(List<double> sorted, double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(q * sorted.Count) - 1)];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {P(handshakes, 0.5):0.0} | {P(times, 0.5):0.0} | {P(times, 0.9):0.0} | {times[0]:0.0} | {times[^1]:0.0} |"));
    }
}
