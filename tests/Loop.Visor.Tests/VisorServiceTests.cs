using System.Collections.Concurrent;
using System.Text.Json;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Visor.Tests;

/// <summary>The supervisor end to end, with real child processes and a fake clock for its delays and polls.</summary>
public sealed class VisorServiceTests : IDisposable
{
    private readonly TempHome _temp = new();
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<string> _started = new();

    public VisorServiceTests()
    {
        _temp.WriteConfig();
        _temp.Version("genesis", "exec sleep 600");
    }

    public void Dispose() => _temp.Dispose();

    private VisorService Create(VisorServiceOptions? options = null)
    {
        var service = new VisorService(_temp.Home, options, timeProvider: _time);
        service.VersionStarted += _started.Enqueue;
        return service;
    }

    private Task AdvanceUntilAsync(Func<bool> condition, string what) => _time.AdvanceUntilAsync(condition, what);

    private async Task WriteUpgradeInfoAsync(string name, long height)
    {
        Directory.CreateDirectory(Path.Combine(_temp.Root, "data"));
        await File.WriteAllTextAsync(Path.Combine(_temp.Root, "data", "upgrade-info.json"), JsonSerializer.Serialize(new { name, height, info = "test" }));
    }

    [Fact]
    public async Task A_crash_is_restarted_after_the_delay()
    {
        _temp.Version("genesis", "exit 1");
        using var visor = Create();
        using var cts = new CancellationTokenSource();
        var run = visor.RunAsync(cts.Token);

        await Eventually.WaitAsync(() => _started.Count == 1, "the first start");

        // The delay starts when the crash is handled; step the clock and count how far it had to go.
        var advanced = TimeSpan.Zero;
        await Eventually.WaitAsync(
            () =>
            {
                if (_started.Count == 2)
                {
                    return true;
                }

                _time.Advance(TimeSpan.FromMilliseconds(500));
                advanced += TimeSpan.FromMilliseconds(500);
                return false;
            },
            "the restart");
        advanced.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(5), "the restart waits restartsDelaySeconds = 5");
        await cts.CancelAsync();
        (await run.WaitAsync(Eventually.DefaultTimeout)).Should().BeOneOf(VisorExitCodes.Stopped, VisorExitCodes.MaxRestartsReached);
    }

    [Fact]
    public async Task After_the_maximum_number_of_restarts_visor_exits_non_zero()
    {
        _temp.Version("genesis", "exit 1");
        File.WriteAllText(_temp.Home.ConfigPath, "maxNumberOfRestarts = 2\nrestartsDelaySeconds = 0\n");
        using var visor = Create();

        var code = await visor.RunAsync().WaitAsync(Eventually.DefaultTimeout);

        code.Should().Be(VisorExitCodes.MaxRestartsReached);
        _started.Should().HaveCount(3, "the first start and two restarts");
    }

    [Fact]
    public async Task A_full_upgrade_switches_current_and_hands_the_height_to_the_new_version()
    {
        var output = Path.Combine(_temp.Parent, "v2.out");
        _temp.Version("v2", $"echo \"$@ $LOOP_UPGRADE_HEIGHT\" > {output}\nexec sleep 600");
        using var visor = Create();
        using var cts = new CancellationTokenSource();
        var run = visor.RunAsync(cts.Token);
        await Eventually.WaitAsync(() => _started.Count == 1, "genesis running");
        var genesisPids = visor.Runner.ProcessIds.ToArray();

        await WriteUpgradeInfoAsync("v2", 42);
        await AdvanceUntilAsync(() => _started.Contains("v2"), "the switch to v2");

        _started.Should().Equal("genesis", "v2");
        _temp.Home.CurrentFolder().Should().Be(Path.Combine(_temp.Root, "v2"));
        _temp.Home.PreviousFolder().Should().Be(_temp.Home.GenesisFolder);
        await Eventually.WaitAsync(() => File.Exists(output) && File.ReadAllText(output).Trim().Length > 0, "v2 started");
        File.ReadAllText(output).Trim().Should().Be("--height 42 42");
        genesisPids.Should().AllSatisfy(pid => Directory.Exists($"/proc/{pid}").Should().BeFalse("genesis was stopped first"));

        await cts.CancelAsync();
        (await run.WaitAsync(Eventually.DefaultTimeout)).Should().Be(VisorExitCodes.Stopped);
        visor.Runner.ProcessIds.Should().BeEmpty("stopping Visor stops its processes");
    }

    [Fact]
    public async Task A_new_version_that_dies_at_start_is_rolled_back()
    {
        _temp.Version("v3", "echo broken >&2\nexit 7");
        using var visor = Create();
        using var cts = new CancellationTokenSource();
        var run = visor.RunAsync(cts.Token);
        await Eventually.WaitAsync(() => _started.Count == 1, "genesis running");

        await WriteUpgradeInfoAsync("v3", 100);
        await AdvanceUntilAsync(() => _started.Count >= 3, "the upgrade and the rollback");

        _started.Take(3).Should().Equal("genesis", "v3", "genesis");
        _temp.Home.CurrentFolder().Should().Be(_temp.Home.GenesisFolder);

        // The refused version is not tried again while the file still names it.
        _time.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        _started.Should().HaveCount(3);
        await cts.CancelAsync();
        await run.WaitAsync(Eventually.DefaultTimeout);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("v9")]
    public async Task A_bad_or_missing_version_is_refused_and_the_running_version_keeps_running(string tag)
    {
        Directory.CreateDirectory(Path.Combine(_temp.Parent, "evil"));
        using var visor = Create();
        using var cts = new CancellationTokenSource();
        var run = visor.RunAsync(cts.Token);
        await Eventually.WaitAsync(() => visor.Runner.ProcessIds.Count == 1, "genesis running");
        var pid = visor.Runner.ProcessIds[0];

        await WriteUpgradeInfoAsync(tag, 5);
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            await Task.Delay(50);
        }

        visor.Runner.ProcessIds.Should().Equal([pid], "the same genesis process is still running");
        _started.Should().Equal("genesis");
        _temp.Home.CurrentFolder().Should().Be(_temp.Home.GenesisFolder);
        await cts.CancelAsync();
        await run.WaitAsync(Eventually.DefaultTimeout);
    }

    [Fact]
    public async Task Config_edits_are_applied_and_invalid_edits_keep_the_old_values()
    {
        using var visor = Create();
        using var cts = new CancellationTokenSource();
        var run = visor.RunAsync(cts.Token);
        await Eventually.WaitAsync(() => _started.Count == 1, "running");

        File.WriteAllText(_temp.Home.ConfigPath, "maxNumberOfRestarts = 9\nstopSignalTimeoutSeconds = 7\n");
        File.SetLastWriteTimeUtc(_temp.Home.ConfigPath, DateTime.UnixEpoch.AddYears(60));
        await AdvanceUntilAsync(() => visor.Config.MaxNumberOfRestarts == 9, "the good edit applied");
        visor.Config.StopSignalTimeoutSeconds.Should().Be(7);
        visor.Config.RestartsDelaySeconds.Should().Be(5, "a key removed from the file returns to its default");

        File.WriteAllText(_temp.Home.ConfigPath, "maxNumberOfRestarts = 1\nnotAKey = 1\n");
        File.SetLastWriteTimeUtc(_temp.Home.ConfigPath, DateTime.UnixEpoch.AddYears(61));
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            await Task.Delay(50);
        }

        visor.Config.MaxNumberOfRestarts.Should().Be(9, "the invalid edit is rejected as a whole");
        await cts.CancelAsync();
        await run.WaitAsync(Eventually.DefaultTimeout);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_node_upgrade_status_rpc_triggers_the_upgrade(bool unixSocket)
    {
        var socket = Path.Combine(_temp.Parent, "vega.sock");
        var port = FreePort.Next();
        var ready = false;
        await using var node = await StartUpgradeStatusServerAsync(unixSocket ? socket : null, port, () => ready);
        var genesis = _temp.Home.GenesisFolder;
        var endpoint = unixSocket ? new UpgradeRpcEndpoint(socket, "/rpc") : new UpgradeRpcEndpoint(null, $"http://127.0.0.1:{port}/rpc");
        RunConfigFile.Write(genesis, RunConfigFile.Load(genesis) with { UpgradeRpc = endpoint });
        _temp.Version("v2", "exec sleep 600");
        using var visor = Create();
        using var cts = new CancellationTokenSource();
        var run = visor.RunAsync(cts.Token);
        await Eventually.WaitAsync(() => _started.Count == 1, "genesis running");

        _time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(100);
        _started.Should().Equal("genesis");

        ready = true;
        await AdvanceUntilAsync(() => _started.Contains("v2"), "the switch announced by the node");
        await cts.CancelAsync();
        await run.WaitAsync(Eventually.DefaultTimeout);
    }

    [Fact]
    public async Task An_unreachable_upgrade_status_rpc_ends_visor_after_the_retry_limit()
    {
        File.WriteAllText(_temp.Home.ConfigPath, "maxNumberOfFirstConnectionRetries = 2\n");
        var genesis = _temp.Home.GenesisFolder;
        RunConfigFile.Write(genesis, RunConfigFile.Load(genesis) with { UpgradeRpc = new UpgradeRpcEndpoint(Path.Combine(_temp.Parent, "absent.sock"), "/rpc") });
        using var visor = Create();
        var run = visor.RunAsync();

        await AdvanceUntilAsync(() => run.IsCompleted, "visor to give up");
        (await run).Should().Be(VisorExitCodes.UpgradeStatusUnreachable);
        visor.Runner.ProcessIds.Should().BeEmpty();
    }

    private static async Task<WebApplication> StartUpgradeStatusServerAsync(string? socket, int port, Func<bool> ready)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (socket is not null)
            {
                k.ListenUnixSocket(socket);
            }
            else
            {
                k.Listen(System.Net.IPAddress.Loopback, port);
            }
        });
        var app = builder.Build();
        app.MapPost("/rpc", async (HttpContext context) =>
        {
            using var request = await JsonDocument.ParseAsync(context.Request.Body);
            var method = request.RootElement.GetProperty("method").GetString();
            // As Vega answers: Go field names, no camelCase.
            await context.Response.WriteAsJsonAsync(new
            {
                jsonrpc = "2.0",
                id = request.RootElement.GetProperty("id").GetInt64(),
                result = method == "protocolupgrade.UpgradeStatus"
                    ? new { ReadyToUpgrade = ready(), AcceptedReleaseInfo = new { VegaReleaseTag = "v2", UpgradeBlockHeight = 7 } }
                    : null,
            }, new JsonSerializerOptions());
        });
        await app.StartAsync();
        return app;
    }
}
