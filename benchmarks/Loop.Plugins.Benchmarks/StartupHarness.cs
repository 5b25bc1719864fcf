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
        output.WriteLine("| plugin | median ms | p90 ms | min ms | max ms |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        await MeasureAsync(".NET sample plugin (JIT)", Plugins.DotnetPlugin, rounds, output);
        var (aot, _) = await AotSamplePlugin.PublishOnceAsync();
        await MeasureAsync(".NET sample plugin (Native AOT)", aot, rounds, output);
        await MeasureAsync("Go plugin (go-plugin 1.0.1)", goPlugin, rounds, output);
    }

    private static async Task MeasureAsync(string name, string path, int rounds, TextWriter output)
    {
        var times = new List<double>();
        var registry = new LoopRegistry(new PortPool(21_100, 21_199));
        var factory = LoopCommands.RegisterLoop(registry, new CmdConfig(name, path));
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            await using var client = await PluginClient.StartAsync(factory(), Plugins.Handshake);
            if (!await client.PingAsync(TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException($"{name} is not healthy");
            }

            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        registry.Unregister(name);
        times.Sort();
        double P(double q) => times[(int)Math.Min(times.Count - 1, Math.Ceiling(q * times.Count) - 1)];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {P(0.5):0.0} | {P(0.9):0.0} | {times[0]:0.0} | {times[^1]:0.0} |"));
    }
}
