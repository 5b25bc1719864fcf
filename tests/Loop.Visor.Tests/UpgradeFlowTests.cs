using System.Text.Json;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Loop.Visor.Tests;

/// <summary>The upgrade flows real nodes use: cosmos-sdk's halt and exit, Vega's status endpoint, heights, refusals.</summary>
public sealed class UpgradeFlowTests : IDisposable
{
    private readonly VisorHarness _h = new("maxNumberOfRestarts = 3\nrestartsDelaySeconds = 5\nstopSignalTimeoutSeconds = 5\n");

    public void Dispose() => _h.Dispose();

    private string Output(string name) => Path.Combine(_h.Temp.Parent, name);

    private string ReadOutput(string name) => File.Exists(Output(name)) ? File.ReadAllText(Output(name)).Trim() : string.Empty;

    [Fact]
    public async Task A_node_that_writes_upgrade_info_and_exits_is_upgraded_not_restarted()
    {
        // As cosmos-sdk halts: "UPGRADE NEEDED", upgrade-info.json written, exit 1. No restarts are allowed, so only an
        // upgrade can keep the node running.
        File.WriteAllText(_h.Temp.Home.ConfigPath, "maxNumberOfRestarts = 0\nrestartsDelaySeconds = 0\n");
        var info = Path.Combine(_h.Temp.Root, "data", "upgrade-info.json");
        var gate = Output("halt");
        _h.Temp.Version("genesis", $"while [ ! -f {gate} ]; do sleep 0.02; done\nmkdir -p {Path.GetDirectoryName(info)}\necho '{{\"name\":\"v2\",\"height\":300}}' > {info}\necho 'UPGRADE \"v2\" NEEDED at height: 300' >&2\nexit 1");
        _h.Temp.Version("v2", $"echo \"$@\" > {Output("v2.args")}\nexec sleep 600");
        await _h.StartAsync();

        await File.WriteAllTextAsync(gate, string.Empty);
        await Eventually.WaitAsync(() => _h.Started.Contains("v2"), "the switch to v2 on the node's exit");

        _h.Run.IsCompleted.Should().BeFalse("the exit was an upgrade, not a crash");
        await Eventually.WaitAsync(() => ReadOutput("v2.args") == "--height 300", "v2 started with the height");
        _h.Messages(319).Should().ContainSingle().Which.Should().Contain("v2").And.Contain("300");
        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
    }

    [Fact]
    public async Task Upgrade_sources_are_polled_right_after_a_start_not_one_interval_later()
    {
        _h.Temp.Version("genesis", "exec sleep 600");
        _h.Temp.Version("v2", "exec sleep 600");
        await _h.WriteUpgradeInfoAsync("v2", 5);

        await _h.StartAsync(waitRunning: false);

        // The clock never moves: the poll at start finds the upgrade.
        await Eventually.WaitAsync(() => _h.Started.Contains("v2"), "the upgrade found at the first poll");
        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
    }

    [Fact]
    public async Task After_an_upgrade_the_new_version_gets_the_first_start_limit_for_a_status_endpoint_that_opens_late()
    {
        File.WriteAllText(_h.Temp.Home.ConfigPath, "maxNumberOfFirstConnectionRetries = 100\nmaxNumberOfRestartConnectionRetries = 2\nrestartsDelaySeconds = 0\n");
        var socket = Path.Combine(_h.Temp.Parent, "v2.sock");
        _h.Temp.Version("genesis", "exec sleep 600");
        var v2 = _h.Temp.Version("v2", "exec sleep 600");
        RunConfigFile.Write(v2, RunConfigFile.Load(v2) with { UpgradeRpc = new UpgradeRpcEndpoint(socket, "/rpc") });
        await _h.StartAsync();

        await _h.WriteUpgradeInfoAsync("v2", 9);
        await _h.AdvanceUntilAsync(() => _h.Started.Contains("v2"), "the switch to v2");

        // 26 s of polls against a socket that does not exist yet: more than the restart limit allows.
        for (var i = 0; i < 13; i++)
        {
            await _h.PollAsync(1);
        }

        _h.Run.IsCompleted.Should().BeFalse("an upgraded version gets maxNumberOfFirstConnectionRetries, not the restart limit");
        _h.Messages(320).Should().ContainSingle("the first failure is a warning").Which.Should().Contain($"unix:{socket} /rpc");

        // A minute of failures is reported once more with the count; then the endpoint opens.
        for (var i = 0; i < 20; i++)
        {
            await _h.PollAsync(1);
        }

        _h.Messages(321).Should().ContainSingle().Which.Should().Contain("failed calls over");
        await using var node = await StatusServer.StartAsync(socket, () => ("v2", false));
        await _h.AdvanceUntilAsync(() => _h.Messages(322).Any(), "the line saying the endpoint answers again");
        _h.Messages(322).Single().Should().Contain($"unix:{socket} /rpc");
        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
    }

    [Fact]
    public async Task The_retry_limit_message_names_the_endpoint_actually_used()
    {
        File.WriteAllText(_h.Temp.Home.ConfigPath, "maxNumberOfFirstConnectionRetries = 2\n");
        var socket = Path.Combine(_h.Temp.Parent, "absent.sock");
        var genesis = _h.Temp.Version("genesis", "exec sleep 600");
        RunConfigFile.Write(genesis, RunConfigFile.Load(genesis) with { UpgradeRpc = new UpgradeRpcEndpoint(socket, "/rpc") });
        await _h.StartAsync();

        await _h.AdvanceUntilAsync(() => _h.Run.IsCompleted, "Visor to give up");

        (await _h.Run).Should().Be(VisorExitCodes.UpgradeStatusUnreachable);
        _h.Messages(307).Single().Should().Contain($"unix:{socket} /rpc").And.Contain("(2)");
    }

    [Fact]
    public async Task A_status_endpoint_that_accepts_and_never_answers_counts_as_failing_within_the_rpc_timeout()
    {
        File.WriteAllText(_h.Temp.Home.ConfigPath, "maxNumberOfFirstConnectionRetries = 2\n");
        var socket = Path.Combine(_h.Temp.Parent, "hung.sock");
        using var hung = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        hung.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
        hung.Listen(16);
        var accepted = new System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                accepted.Add(await hung.AcceptAsync());
            }
        });
        var genesis = _h.Temp.Version("genesis", "exec sleep 600");
        RunConfigFile.Write(genesis, RunConfigFile.Load(genesis) with { UpgradeRpc = new UpgradeRpcEndpoint(socket, "/rpc") });
        await _h.StartAsync(new VisorServiceOptions { RpcTimeout = TimeSpan.FromMilliseconds(200) });

        await _h.AdvanceUntilAsync(() => _h.Run.IsCompleted, "Visor to give up on the silent endpoint");

        (await _h.Run).Should().Be(VisorExitCodes.UpgradeStatusUnreachable);
        _h.Messages(320).Single().Should().Contain($"unix:{socket} /rpc");
        accepted.Should().NotBeEmpty("the endpoint accepted the calls and never answered");
        foreach (var connection in accepted.ToArray())
        {
            connection.Dispose();
        }
    }

    [Fact]
    public async Task An_upgrade_to_the_version_already_running_is_ignored_with_one_line()
    {
        // The node keeps answering ReadyToUpgrade with the tag it runs; that tag maps to the running folder.
        var socket = Path.Combine(_h.Temp.Parent, "node.sock");
        File.AppendAllText(_h.Temp.Home.ConfigPath, "[upgradeFolders]\n\"v1.0.0\" = \"genesis\"\n");
        var genesis = _h.Temp.Version("genesis", "exec sleep 600");
        RunConfigFile.Write(genesis, RunConfigFile.Load(genesis) with { Name = "v1.0.0", UpgradeRpc = new UpgradeRpcEndpoint(socket, "/rpc") });
        await using var node = await StatusServer.StartAsync(socket, () => ("v1.0.0", true));
        var visor = await _h.StartAsync();
        var pids = visor.Runner.ProcessIds.ToArray();

        await _h.PollAsync(5);

        _h.Started.Should().Equal("v1.0.0");
        visor.Runner.ProcessIds.Should().Equal(pids, "nothing was stopped");
        _h.Messages(316).Should().ContainSingle().Which.Should().Contain("is the version running");
        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
    }

    [Fact]
    public async Task The_upgrade_height_is_dropped_on_genesis_and_kept_for_restarts_of_an_upgraded_version()
    {
        _h.Temp.Version("genesis", $"echo \"$@|$LOOP_UPGRADE_HEIGHT\" > {Output("genesis.args")}\nexec sleep 600");
        var crash = Output("crash");
        _h.Temp.Version("v2", $"echo \"$@|$LOOP_UPGRADE_HEIGHT\" >> {Output("v2.args")}\nwhile [ ! -f {crash} ]; do sleep 0.02; done\nrm {crash}\nexit 9");
        File.WriteAllText(_h.Temp.Home.ConfigPath, "restartsDelaySeconds = 0\nupgradeRollbackWindowSeconds = 0\n");
        await _h.StartAsync();
        await Eventually.WaitAsync(() => ReadOutput("genesis.args").Length > 0, "genesis started");

        ReadOutput("genesis.args").Should().Be("|", "genesis has no height: the flag and its placeholder are dropped, no variable is set");
        _h.Messages(318).Should().ContainSingle().Which.Should().Contain("--height {upgradeHeight}");

        await _h.WriteUpgradeInfoAsync("v2", 42);
        await _h.AdvanceUntilAsync(() => ReadOutput("v2.args").Length > 0, "v2 started");
        await File.WriteAllTextAsync(crash, string.Empty);
        await _h.AdvanceUntilAsync(() => ReadOutput("v2.args").Split('\n').Length == 2, "v2 restarted after its crash");
        await _h.StopAsync();

        // A new Visor (a restart of the supervisor) starts v2 with the height recorded in the home.
        await _h.StartAsync();
        await Eventually.WaitAsync(() => ReadOutput("v2.args").Split('\n').Length == 3, "v2 started by the new Visor");
        ReadOutput("v2.args").Split('\n').Should().AllBe("--height 42|42");
        await _h.StopAsync();
    }

    [Fact]
    public async Task A_version_added_for_a_height_is_refused_at_another_height_and_takes_its_height_when_none_is_reported()
    {
        _h.Temp.Version("genesis", "exec sleep 600");
        var binary = TempHome.Script(_h.Temp.Parent, "vega-v2", $"echo \"$@\" > {Output("v2.args")}\nexec sleep 600");
        VersionInstaller.AddUpgrade(_h.Temp.Home, VisorConfigFile.Load(_h.Temp.Home.ConfigPath), "v2", binary, height: 1200);
        await _h.StartAsync();

        await _h.WriteUpgradeInfoAsync("v2", 1300);
        await _h.AdvanceUntilAsync(() => _h.Messages(306).Any(), "the refusal at the wrong height");
        _h.Messages(306).Single().Should().Contain("added for the upgrade at height 1200").And.Contain("reported at height 1300");
        _h.Started.Should().Equal("genesis");

        VisorStateFile.Update(_h.Temp.Home, s => s with { Refused = [] });
        await _h.WriteUpgradeInfoAsync("v2", 0);
        await _h.AdvanceUntilAsync(() => _h.Started.Contains("v2"), "the upgrade without a reported height");
        await Eventually.WaitAsync(() => ReadOutput("v2.args") == "--height 1200", "v2 started with the planned height");
        await _h.StopAsync();
    }

    [Fact]
    public async Task A_rolled_back_version_is_recorded_and_not_tried_again_by_a_new_visor_until_cleared()
    {
        _h.Temp.Version("genesis", "exec sleep 600");
        _h.Temp.Version("v3", "echo broken >&2\nexit 7");
        await _h.StartAsync();
        await _h.WriteUpgradeInfoAsync("v3", 100);
        await _h.AdvanceUntilAsync(() => _h.Started.Count >= 3, "the upgrade and the rollback");
        await _h.StopAsync();

        var state = VisorStateFile.Load(_h.Temp.Home);
        state.LastRollback.Should().NotBeNull();
        state.LastRollback!.Failed.Should().Be("v3");
        state.LastRollback.RestoredTo.Should().Be("genesis");
        state.LastRollback.Reason.Should().Contain("exited 7");
        state.RefusalOf("v3").Should().NotBeNull();

        // upgrade-info.json still names v3: a new Visor does not try it.
        await _h.StartAsync();
        await _h.PollAsync(3);
        _h.Started.Should().Equal("genesis", "v3", "genesis", "genesis");
        _h.Messages(317).Should().HaveCount(2, "each Visor says once why it ignores v3").And.AllSatisfy(m => m.Should().Contain("clear-refused"));
        await _h.StopAsync();
    }
}

/// <summary>A node's upgrade-status JSON-RPC endpoint on a Unix socket, answering as Vega does (Go field names).</summary>
internal static class StatusServer
{
    public static async Task<WebApplication> StartAsync(string socket, Func<(string Tag, bool Ready)> status, long height = 7)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket));
        var app = builder.Build();
        app.MapPost("/rpc", async (HttpContext context) =>
        {
            using var request = await JsonDocument.ParseAsync(context.Request.Body);
            var (tag, ready) = status();
            await context.Response.WriteAsJsonAsync(new
            {
                jsonrpc = "2.0",
                id = request.RootElement.GetProperty("id").GetInt64(),
                result = new { ReadyToUpgrade = ready, AcceptedReleaseInfo = new { VegaReleaseTag = tag, UpgradeBlockHeight = height } },
            }, new JsonSerializerOptions());
        });
        await app.StartAsync();
        return app;
    }
}
