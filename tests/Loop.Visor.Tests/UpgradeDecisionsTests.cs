using Loop.Testing;
using Loop.Visor.Upgrades;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Visor.Tests;

/// <summary>The upgrade decisions on their own, without a running set: what is accepted, retried, refused and recorded.</summary>
public sealed class UpgradeDecisionsTests : IDisposable
{
    private readonly TempHome _temp = new();
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger _logger = new();
    private readonly VisorMetrics _metrics = new(null);
    private readonly HttpClient _downloads = new();

    public void Dispose()
    {
        _metrics.Dispose();
        _downloads.Dispose();
        _temp.Dispose();
    }

    private UpgradeDecisions Decisions() =>
        new(_temp.Home, new UpgradePreparer(_temp.Home, _downloads, _logger), new VisorStateRecorder(_temp.Home, _logger), _metrics, _time, _logger);

    private static RunConfig Running(string name) => new(name, [new ProcessSpec("vega", "/bin/true", [], new Dictionary<string, string>())]);

    [Fact]
    public async Task The_running_version_is_ignored_and_said_once()
    {
        var decisions = Decisions();
        for (var i = 0; i < 3; i++)
        {
            (await decisions.AcceptAsync(new UpgradeRequest("genesis", 10, "test"), Running("genesis"), new VisorConfig(), default)).Should().BeNull();
        }

        _logger.Collector.GetSnapshot().Count(r => r.Id.Id == VisorLog.EventIds.SameVersion).Should().Be(1);
    }

    [Fact]
    public async Task A_passing_failure_waits_out_its_retry_delay_and_is_not_recorded()
    {
        // autoInstall from a release server that refuses connections: a failure that may pass by itself.
        var config = new VisorConfig { AutoInstall = new AutoInstallConfig { Enabled = true, AssetUrlTemplate = $"http://127.0.0.1:{FreePort.Next()}/vega", UnsafeAllowMissingChecksum = true } };
        var decisions = Decisions();
        var request = new UpgradeRequest("v2", 10, "test");

        (await decisions.AcceptAsync(request, Running("genesis"), config, default)).Should().BeNull();
        (await decisions.AcceptAsync(request, Running("genesis"), config, default)).Should().BeNull();
        _logger.Collector.GetSnapshot().Count(r => r.Id.Id == VisorLog.EventIds.UpgradeRetried).Should().Be(1, "the second report falls within the retry delay");

        _time.Advance(UpgradeDecisions.TransientRetryDelay);
        (await decisions.AcceptAsync(request, Running("genesis"), config, default)).Should().BeNull();
        _logger.Collector.GetSnapshot().Count(r => r.Id.Id == VisorLog.EventIds.UpgradeRetried).Should().Be(2, "after the delay it is tried again");
        VisorStateFile.Load(_temp.Home).RefusalOf("v2").Should().BeNull();
    }

    [Fact]
    public async Task A_lasting_refusal_is_recorded_and_a_later_report_of_the_version_is_not_prepared_again()
    {
        var decisions = Decisions();
        var request = new UpgradeRequest("v3", 10, "test");

        (await decisions.AcceptAsync(request, Running("genesis"), new VisorConfig(), default)).Should().BeNull();
        VisorStateFile.Load(_temp.Home).RefusalOf("v3")!.Reason.Should().Contain("has no run-config.toml");

        _temp.Version("v3", "exec sleep 600");
        (await Decisions().AcceptAsync(request, Running("genesis"), new VisorConfig(), default)).Should().BeNull("a refusal holds until an operator clears it");
        _logger.Collector.GetSnapshot().Should().Contain(r => r.Id.Id == VisorLog.EventIds.RefusedBefore);
    }

    [Fact]
    public async Task A_prepared_upgrade_switches_current_and_records_it()
    {
        _temp.Version("v4", "exec sleep 600");
        var decisions = Decisions();

        var prepared = await decisions.AcceptAsync(new UpgradeRequest("v4", 42, "test"), Running("genesis"), new VisorConfig(), default);
        prepared.Should().NotBeNull();
        (await decisions.SwitchAsync(prepared!, "genesis", new VisorConfig(), default)).Should().BeTrue();

        Path.GetFileName(_temp.Home.CurrentFolder()).Should().Be("v4");
        var state = VisorStateFile.Load(_temp.Home);
        state.CurrentVersion.Should().Be("v4");
        state.UpgradeHeights["v4"].Should().Be(42);
        state.LastUpgrade!.From.Should().Be("genesis");
    }
}
