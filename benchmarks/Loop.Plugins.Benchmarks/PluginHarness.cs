using System.Diagnostics;
using System.Globalization;
using Loop.Sample.V1;
using Loop.Testing;

namespace Loop.Plugins.Benchmarks;

/// <summary>
/// The plugin measurements that need per-call percentiles, every build of the sample plugin beside the Go plugin
/// (go-plugin 1.0.1) in one run: start to healthy (exec → handshake line → connected → health SERVING, a fresh process
/// per round), relaunch after SIGKILL under <see cref="PluginService"/> (kill → the new process healthy), and the unary
/// <c>Echo.Say</c> round trip on the supervised channel.
/// </summary>
internal static class PluginHarness
{
    private const int Calls = 2_000;

    public static async Task RunAsync(int rounds, TextWriter output)
    {
        // BENCH_PLUGINS narrows the run (comma-separated: jit, r2r, r2rc, aot, go); BENCH_AOT_PLUGIN names an already
        // published AOT plugin (to compare builds), else the harness publishes one.
        var only = Environment.GetEnvironmentVariable("BENCH_PLUGINS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        bool Wanted(string key) => only is null || only.Contains(key, StringComparer.OrdinalIgnoreCase);
        var plugins = new List<(string Name, string Path)>();
        if (Wanted("jit"))
        {
            plugins.Add((".NET sample plugin (JIT)", Plugins.DotnetPlugin));
        }

        if (Wanted("r2r"))
        {
            plugins.Add((".NET sample plugin (ReadyToRun)", await PublishedPlugin.PublishAsync("r2r", "-p:PublishReadyToRun=true", "--self-contained", "false")));
        }

        if (Wanted("r2rc"))
        {
            plugins.Add((".NET sample plugin (ReadyToRun composite, self-contained)", await PublishedPlugin.PublishAsync("r2rc", "-p:PublishReadyToRun=true", "-p:PublishReadyToRunComposite=true", "--self-contained", "true")));
        }

        if (Wanted("aot"))
        {
            plugins.Add((".NET sample plugin (Native AOT)", Environment.GetEnvironmentVariable("BENCH_AOT_PLUGIN") is { Length: > 0 } published
                ? published
                : (await AotSamplePlugin.PublishOnceAsync()).Binary));
        }

        if (Wanted("go"))
        {
            plugins.Add(("Go plugin (go-plugin 1.0.1)", (await GoToolchain.BuildOnceAsync()).Plugin));
        }

        output.WriteLine($"rounds: {rounds}; round trip: {Calls} calls after 200 warm-up calls");
        output.WriteLine();
        output.WriteLine("| plugin | healthy after start, median ms | p90 ms | healthy after SIGKILL, median ms | p90 ms | round trip, p50 µs | p99 µs |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        var port = 21_100;
        foreach (var (name, path) in plugins)
        {
            var registry = new LoopRegistry(new LoopPluginsOptions { FirstPort = port, LastPort = port + 9 });
            port += 10;
            var start = await StartToHealthyAsync(registry, name, path, rounds);
            var (relaunch, roundTrip) = await SupervisedAsync(registry, name, path, rounds);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {P(start, 0.5):0.0} | {P(start, 0.9):0.0} | {P(relaunch, 0.5):0.0} | {P(relaunch, 0.9):0.0} | {P(roundTrip, 0.5):0} | {P(roundTrip, 0.99):0} |"));
        }
    }

    private static async Task<List<double>> StartToHealthyAsync(LoopRegistry registry, string name, string path, int rounds)
    {
        var times = new List<double>();
        var factory = LoopCommands.RegisterLoop(registry, new CmdConfig("start", path));
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

        registry.Unregister("start");
        return times;
    }

    private static async Task<(List<double> Relaunch, List<double> RoundTrip)> SupervisedAsync(LoopRegistry registry, string name, string path, int rounds)
    {
        // No backoff between the rounds' relaunches: each kill is measured alone.
        var options = new PluginServiceOptions { RelaunchBackoff = TimeSpan.FromMilliseconds(1), MaxRelaunchBackoff = TimeSpan.FromMilliseconds(1) };
        await using var service = new PluginService("supervised", LoopCommands.RegisterLoop(registry, new CmdConfig("supervised", path)), Plugins.Handshake, options, registry: registry);
        await service.StartAsync();
        var client = await service.WaitAsync();

        var echo = new Echo.EchoClient(client.Channel);
        var request = new EchoRequest { Text = "ping" };
        for (var i = 0; i < 200; i++)
        {
            await echo.SayAsync(request);
        }

        var roundTrip = new List<double>(Calls);
        for (var i = 0; i < Calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await echo.SayAsync(request);
            roundTrip.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        var relaunch = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            var killed = client;
            var clock = Stopwatch.StartNew();
            Process.GetProcessById(killed.ProcessId).Kill();
            do
            {
                client = await service.WaitAsync();
            }
            while (client == killed);

            if (!await client.PingAsync(TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException($"{name} is not healthy after its relaunch");
            }

            relaunch.Add(clock.Elapsed.TotalMilliseconds);
        }

        return (relaunch, roundTrip);
    }

    private static double P(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(q * sorted.Count) - 1)];
    }
}
