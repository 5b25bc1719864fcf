using System.Collections.Concurrent;
using System.Text.Json;
using Loop.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Visor.Tests;

/// <summary>
/// A <see cref="VisorService"/> on a temp home with real child processes, a fake clock for its polls and delays, and
/// its log collected. Disposing it stops Visor and fails the test if any process it started is still running.
/// </summary>
public sealed class VisorHarness : IDisposable
{
    private CancellationTokenSource _stop = new();
    private readonly ILoggerFactory _loggers;
    private VisorService? _visor;

    public VisorHarness(string config = "maxNumberOfRestarts = 3\nrestartsDelaySeconds = 5\nstopSignalTimeoutSeconds = 5\n")
    {
        File.WriteAllText(Temp.Home.ConfigPath, config);
        _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)));
    }

    public TempHome Temp { get; } = new();

    public FakeTimeProvider Time { get; } = new();

    public FakeLogCollector Logs { get; } = new();

    public ConcurrentQueue<string> Started { get; } = new();

    public VisorService Visor => _visor ?? throw new InvalidOperationException("not started");

    public Task<int> Run { get; private set; } = Task.FromResult(-1);

    public IEnumerable<string> Messages(int eventId) => Logs.GetSnapshot().Where(r => r.Id.Id == eventId).Select(r => r.Message);

    /// <summary>Starts Visor (a new one each call, as after a restart of Visor) and returns when its first version runs.</summary>
    public async Task<VisorService> StartAsync(VisorServiceOptions? options = null, IEnumerable<IUpgradeSource>? sources = null, bool waitRunning = true)
    {
        _visor?.Dispose();
        _visor = new VisorService(Temp.Home, options, sources, _loggers, Time);
        _visor.VersionStarted += Started.Enqueue;
        Run = _visor.RunAsync(_stop.Token);
        if (waitRunning)
        {
            var visor = _visor;
            await Eventually.WaitAsync(() => Run.IsCompleted || visor.Runner.ProcessIds.Count > 0, "the first version running");
        }

        return _visor;
    }

    /// <summary>Stops Visor as SIGTERM would and returns its exit code; a later <see cref="StartAsync"/> starts a new Visor.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        var code = await Run.WaitAsync(Eventually.DefaultTimeout);
        _visor?.Dispose();
        _stop = new CancellationTokenSource();
        return code;
    }

    public async Task WriteUpgradeInfoAsync(string name, long height)
    {
        Directory.CreateDirectory(Path.Combine(Temp.Root, "data"));
        await File.WriteAllTextAsync(Path.Combine(Temp.Root, "data", "upgrade-info.json"), JsonSerializer.Serialize(new { name, height, info = "test" }));
    }

    public Task AdvanceUntilAsync(Func<bool> condition, string what) => Time.AdvanceUntilAsync(condition, what);

    /// <summary>Moves the clock on <paramref name="polls"/> poll intervals, letting Visor act on each.</summary>
    public async Task PollAsync(int polls)
    {
        for (var i = 0; i < polls; i++)
        {
            Time.Advance(VisorServiceOptions.DefaultPollInterval);
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!Run.IsCompleted)
            {
                _stop.Cancel();
                Run.Wait(Eventually.DefaultTimeout);
            }
        }
        finally
        {
            _visor?.Dispose();
            _loggers.Dispose();
            _stop.Dispose();
            Temp.Dispose();
        }
    }
}
