using Loop.Testing;

namespace Loop.Visor.Tests;

/// <summary>
/// However Visor ends, its processes end first; and no failure on the install path ends Visor at all. Each test's
/// harness fails it if any process the test started is still running afterwards, grandchildren included.
/// </summary>
public sealed class NeverUnsupervisedTests : IAsyncLifetime, IDisposable
{
    private readonly VisorHarness _h = new("restartsDelaySeconds = 0\nstopSignalTimeoutSeconds = 5\n");
    private ReleaseServer _server = null!;

    public async Task InitializeAsync() => _server = await ReleaseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _h.Dispose();

    /// <summary>A node that shuts down 300 ms after SIGTERM.</summary>
    internal const string SlowStopper = "trap 'sleep 0.3; exit 0' TERM\nwhile :; do sleep 0.02; done";

    private void ConfigureAutoInstall() =>
        File.AppendAllText(
            _h.Temp.Home.ConfigPath,
            $"[autoInstall]\nenabled = true\nreleaseApiUrl = \"{_server.ApiUrl}\"\nassetName = \"vega.tar.gz\"\nchecksum = \"SHA256SUMS\"\n");

    private void PublishV2()
    {
        var archive = ReleaseServer.TarGz(("vega", "exec sleep 600"));
        _server.Publish("v2", ("vega.tar.gz", archive), ("SHA256SUMS", ReleaseServer.SumsFile(("vega.tar.gz", archive))));
    }

    [Fact]
    public async Task Cancellation_in_the_middle_of_a_download_stops_the_running_processes_before_RunAsync_returns()
    {
        ConfigureAutoInstall();
        PublishV2();
        _server.Fault = ReleaseServerFault.StallDownloads;

        // A node that takes a moment to shut down on SIGTERM, as real nodes do.
        _h.Temp.Version("genesis", SlowStopper);
        var visor = await _h.StartAsync();
        var pids = visor.Runner.ProcessIds.ToArray();

        await _h.WriteUpgradeInfoAsync("v2", 10);
        await _h.AdvanceUntilAsync(() => _server.Stalled.Task.IsCompleted, "the download to stall");
        var code = await _h.StopAsync();

        code.Should().Be(VisorExitCodes.Stopped);
        pids.Should().AllSatisfy(pid => ProcessLeaks.Find(_h.Temp.Parent).Should().NotContain(pid, "genesis is stopped before Visor returns"));
        ProcessLeaks.Find(_h.Temp.Parent).Should().BeEmpty();
    }

    [Fact]
    public async Task A_release_api_answering_html_refuses_the_upgrade_and_the_running_version_keeps_running()
    {
        ConfigureAutoInstall();
        _server.Fault = ReleaseServerFault.Html;
        _h.Temp.Version("genesis", "exec sleep 600");
        var visor = await _h.StartAsync();
        var pids = visor.Runner.ProcessIds.ToArray();

        await _h.WriteUpgradeInfoAsync("v2", 10);
        await _h.AdvanceUntilAsync(() => _h.Messages(315).Any(), "the refusal");

        _h.Messages(315).Single().Should().Contain("did not answer with JSON").And.Contain("tried again in");
        _h.Run.IsCompleted.Should().BeFalse("an install failure never ends Visor");
        visor.Runner.ProcessIds.Should().Equal(pids, "the same genesis process still runs");
        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
    }

    [Fact]
    public async Task A_download_that_outlasts_the_timeout_is_refused_for_now_and_retried_later()
    {
        ConfigureAutoInstall();
        PublishV2();
        _server.Fault = ReleaseServerFault.StallDownloads;
        _h.Temp.Version("genesis", "exec sleep 600");
        var visor = await _h.StartAsync(new VisorServiceOptions { DownloadTimeout = TimeSpan.FromMilliseconds(500) });
        var pids = visor.Runner.ProcessIds.ToArray();

        await _h.WriteUpgradeInfoAsync("v2", 10);
        await _h.AdvanceUntilAsync(() => _h.Messages(315).Any(), "the refusal after the timeout");
        _h.Messages(315).Single().Should().Contain("did not finish within 0.5 s");
        visor.Runner.ProcessIds.Should().Equal(pids);
        Directory.Exists(Path.Combine(_h.Temp.Root, "v2")).Should().BeFalse();
        Directory.GetDirectories(_h.Temp.Root, ".install-*").Should().BeEmpty("a failed install leaves nothing behind");

        // A passing failure is not recorded as a refusal: once the server behaves, the upgrade goes through.
        VisorStateFile.Load(_h.Temp.Home).Refused.Should().BeEmpty();
        _server.Fault = ReleaseServerFault.None;
        await _h.AdvanceUntilAsync(() => _h.Started.Contains("v2"), "the retry to install and start v2");
        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
    }

    [Fact]
    public async Task An_unreachable_release_server_is_a_typed_refusal_not_an_unhandled_exception()
    {
        var port = FreePort.Next();
        File.AppendAllText(
            _h.Temp.Home.ConfigPath,
            $"[autoInstall]\nenabled = true\nassetUrlTemplate = \"http://127.0.0.1:{port}/vega-{{tag}}\"\nchecksum = \"sha256:{new string('0', 64)}\"\n");
        _h.Temp.Version("genesis", "exec sleep 600");
        await _h.StartAsync();

        await _h.WriteUpgradeInfoAsync("v2", 10);
        await _h.AdvanceUntilAsync(() => _h.Messages(315).Any(), "the refusal");

        _h.Messages(315).Single().Should().Contain($"127.0.0.1:{port}");
        _h.Run.IsCompleted.Should().BeFalse();
        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
    }

    [Fact]
    public async Task An_unexpected_error_stops_the_processes_and_ends_with_its_own_exit_code()
    {
        _h.Temp.Version("genesis", "exec sleep 600");
        _h.Temp.Version("v2", "exec sleep 600");
        var visor = await _h.StartAsync();
        var pids = visor.Runner.ProcessIds.ToArray();
        visor.VersionStarted += _ => throw new InvalidOperationException("boom");

        await _h.WriteUpgradeInfoAsync("v2", 10);
        await _h.AdvanceUntilAsync(() => _h.Run.IsCompleted, "Visor to end on the error");

        (await _h.Run).Should().Be(VisorExitCodes.InternalError);
        _h.Logs.GetSnapshot().Should().Contain(r => r.Message.Contains("unexpected error (InvalidOperationException): boom", StringComparison.Ordinal));
        ProcessLeaks.Find(_h.Temp.Parent).Should().BeEmpty("the processes are stopped before Visor ends");
        pids.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Stopping_visor_stops_a_wrapper_script_and_the_node_it_started_without_exec()
    {
        var nodePid = Path.Combine(_h.Temp.Parent, "node.pid");
        var node = TempHome.Script(_h.Temp.Parent, "node-inner.sh", $"echo $$ > {nodePid}\nexec sleep 600");

        // The wrapper starts the node as a child (no exec) and waits: the node holds the wrapper's stdout open.
        _h.Temp.Version("genesis", $"{node}\necho wrapper done");
        await _h.StartAsync();
        await Eventually.WaitAsync(() => File.Exists(nodePid) && File.ReadAllText(nodePid).Trim().Length > 0, "the node started by the wrapper");

        (await _h.StopAsync()).Should().Be(VisorExitCodes.Stopped);
        ProcessLeaks.Find(_h.Temp.Parent).Should().BeEmpty("the node went down with its wrapper's process group");
    }
}
