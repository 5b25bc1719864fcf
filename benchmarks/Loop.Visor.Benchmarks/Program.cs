// Upgrade switch downtime: the time from the old process handling SIGTERM to the new process running its first line,
// through Visor (detect → stop → validate → switch the link → start) beside the bare BinariesRunner stop + start of
// the same two scripts, and a raw System.Diagnostics.Process stop + start (no process group, no setsid) as the floor.
// Each script stamps both moments itself (date +%s%N), so every path is timed the same way.
//   dotnet run -c Release --project benchmarks/Loop.Visor.Benchmarks [-- rounds]
using System.Globalization;
using System.Text.Json;
using Loop.Visor;

var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
var root = Path.Combine(Path.GetTempPath(), $"loop-visor-bench-{Guid.NewGuid():N}");
var stamps = Path.Combine(root, "stamps");
Directory.CreateDirectory(stamps);
try
{
    var raw = new List<double>();
    var bare = new List<double>();
    var visor = new List<double>();
    for (var round = 0; round < rounds; round++)
    {
        raw.Add(await RawStopStartAsync(root, stamps, round));
        bare.Add(await BareStopStartAsync(root, stamps, round));
        visor.Add(await VisorSwitchAsync(root, stamps, round));
    }

    Console.WriteLine($"rounds: {rounds}");
    Console.WriteLine("| path | median ms | p90 ms | min ms | max ms |");
    Console.WriteLine("| --- | --- | --- | --- | --- |");
    Report("raw Process stop + start (no group)", raw);
    Report("bare stop + start (BinariesRunner)", bare);
    Report("Visor upgrade switch", visor);
    Console.WriteLine($"Visor minus bare (median): {Percentile(visor, 0.5) - Percentile(bare, 0.5):0.0} ms");
}
finally
{
    Directory.Delete(root, recursive: true);
}

static string Script(string folder, string name, string stamps)
{
    Directory.CreateDirectory(folder);
    var path = Path.Combine(folder, "node.sh");
    File.WriteAllText(path, $"""
        #!/bin/sh
        trap 'date +%s%N > {stamps}/{name}.gone; exit 0' TERM
        date +%s%N > {stamps}/{name}.start
        while :; do sleep 0.01; done
        """ + "\n");
    File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    RunConfigFile.Write(folder, new RunConfig(name, [new ProcessSpec("node", "node.sh", [])]));
    return folder;
}

static async Task<long> StampAsync(string file)
{
    while (!File.Exists(file) || (await File.ReadAllTextAsync(file)).Trim().Length == 0)
    {
        await Task.Delay(5);
    }

    return long.Parse((await File.ReadAllTextAsync(file)).Trim(), CultureInfo.InvariantCulture);
}

static async Task<double> RawStopStartAsync(string root, string stamps, int round)
{
    var (a, b) = ($"raw-a{round}", $"raw-b{round}");
    using var first = System.Diagnostics.Process.Start(Path.Combine(Script(Path.Combine(root, a), a, stamps), "node.sh"))!;
    await StampAsync(Path.Combine(stamps, a + ".start"));
    System.Diagnostics.Process.Start("kill", ["-TERM", first.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
    await first.WaitForExitAsync();
    using var second = System.Diagnostics.Process.Start(Path.Combine(Script(Path.Combine(root, b), b, stamps), "node.sh"))!;
    var gap = (await StampAsync(Path.Combine(stamps, b + ".start")) - await StampAsync(Path.Combine(stamps, a + ".gone"))) / 1e6;
    second.Kill(entireProcessTree: true);
    await second.WaitForExitAsync();
    return gap;
}

static async Task<double> BareStopStartAsync(string root, string stamps, int round)
{
    var (a, b) = ($"bare-a{round}", $"bare-b{round}");
    var runner = new BinariesRunner(new BinariesRunnerOptions { StopTimeout = TimeSpan.FromSeconds(5) });
    using var first = new CancellationTokenSource();
    var run = runner.RunAsync(RunConfigFile.Load(Script(Path.Combine(root, a), a, stamps)), first.Token);
    await StampAsync(Path.Combine(stamps, a + ".start"));
    await first.CancelAsync();
    await run;
    using var second = new CancellationTokenSource();
    var next = runner.RunAsync(RunConfigFile.Load(Script(Path.Combine(root, b), b, stamps)), second.Token);
    var gap = (await StampAsync(Path.Combine(stamps, b + ".start")) - await StampAsync(Path.Combine(stamps, a + ".gone"))) / 1e6;
    await second.CancelAsync();
    await next;
    return gap;
}

static async Task<double> VisorSwitchAsync(string root, string stamps, int round)
{
    var homePath = Path.Combine(root, $"home{round}");
    var home = VisorHome.Init(homePath);
    File.WriteAllText(home.ConfigPath, "stopSignalTimeoutSeconds = 5\n");
    var (from, to) = ($"visor-genesis{round}", $"v{round}.0.0");
    Script(home.GenesisFolder, from, stamps);
    RunConfigFile.Write(home.GenesisFolder, RunConfigFile.Load(home.GenesisFolder) with { Name = "genesis" });
    Script(Path.Combine(homePath, to), to, stamps);
    using var service = new VisorService(home, new VisorServiceOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
    using var stop = new CancellationTokenSource();
    var run = service.RunAsync(stop.Token);
    await StampAsync(Path.Combine(stamps, from + ".start"));
    Directory.CreateDirectory(Path.Combine(homePath, "data"));
    await File.WriteAllTextAsync(Path.Combine(homePath, "data", "upgrade-info.json"), JsonSerializer.Serialize(new { name = to, height = 1 }));
    var gap = (await StampAsync(Path.Combine(stamps, to + ".start")) - await StampAsync(Path.Combine(stamps, from + ".gone"))) / 1e6;
    await stop.CancelAsync();
    await run;
    return gap;
}

static double Percentile(List<double> values, double q)
{
    var sorted = values.Order().ToArray();
    return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(q * sorted.Length) - 1)];
}

static void Report(string name, List<double> values) =>
    Console.WriteLine($"| {name} | {Percentile(values, 0.5):0.0} | {Percentile(values, 0.9):0.0} | {values.Min():0.0} | {values.Max():0.0} |");
