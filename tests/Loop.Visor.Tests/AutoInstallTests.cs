using System.Collections.Concurrent;
using System.Text.Json;
using Loop.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Visor.Tests;

/// <summary>Auto install from a real local release server, and the upgrade checks around it.</summary>
public sealed class AutoInstallTests : IAsyncLifetime, IDisposable
{
    private readonly TempHome _temp = new();
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<string> _started = new();
    private ReleaseServer _server = null!;

    public async Task InitializeAsync() => _server = await ReleaseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _temp.Dispose();

    private void Configure(string autoInstall, string extra = "") =>
        File.WriteAllText(_temp.Home.ConfigPath, $"restartsDelaySeconds = 0\nstopSignalTimeoutSeconds = 5\n{extra}\n[autoInstall]\nenabled = true\n{autoInstall}\n");

    private async Task<(VisorService Visor, Task<int> Run, CancellationTokenSource Stop)> StartVisorAsync()
    {
        _temp.Version("genesis", "exec sleep 600");
        var visor = new VisorService(_temp.Home, timeProvider: _time);
        visor.VersionStarted += _started.Enqueue;
        var stop = new CancellationTokenSource();
        var run = visor.RunAsync(stop.Token);
        await Eventually.WaitAsync(() => visor.Runner.ProcessIds.Count == 1, "genesis running");
        return (visor, run, stop);
    }

    private async Task RequestUpgradeAsync(string tag)
    {
        Directory.CreateDirectory(Path.Combine(_temp.Root, "data"));
        await File.WriteAllTextAsync(Path.Combine(_temp.Root, "data", "upgrade-info.json"), JsonSerializer.Serialize(new { name = tag, height = 77 }));
    }

    private async Task PollAsync(int times)
    {
        for (var i = 0; i < times; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            await Task.Delay(100);
        }
    }

    private Task AdvanceUntilAsync(Func<bool> condition, string what) => _time.AdvanceUntilAsync(condition, what);

    [Fact]
    public async Task An_upgrade_installs_a_verified_tar_gz_release_and_runs_it()
    {
        var marker = Path.Combine(_temp.Parent, "v2.ran");
        var archive = ReleaseServer.TarGz(("vega-v2/bin/vega", $"echo ran > {marker}\nexec sleep 600"));
        _server.Publish("v2", ("vega-linux-amd64.tar.gz", archive), ("SHA256SUMS", ReleaseServer.SumsFile(("vega-linux-amd64.tar.gz", archive))));
        Configure($"releaseApiUrl = \"{_server.ApiUrl}\"\nassetName = \"vega-{{os}}-{{arch}}.tar.gz\"\nbinaryName = \"vega\"\nchecksum = \"SHA256SUMS\"");
        var (visor, run, stop) = await StartVisorAsync();
        using (visor)
        using (stop)
        {
            await RequestUpgradeAsync("v2");
            await AdvanceUntilAsync(() => _started.Contains("v2"), "the installed v2 to start");

            await Eventually.WaitAsync(() => File.Exists(marker), "v2's binary to run");
            var config = RunConfigFile.Load(Path.Combine(_temp.Root, "v2"));
            config.Processes[0].Path.Should().Be(Path.Combine(_temp.Root, "v2", "vega-v2", "bin", "vega"));
            Directory.GetDirectories(_temp.Root, ".install-*").Should().BeEmpty();
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_bad_checksum_is_refused_and_the_old_version_keeps_running()
    {
        var archive = ReleaseServer.TarGz(("vega", "exec sleep 600"));
        _server.Publish("v2", ("vega.tar.gz", archive));
        Configure($"releaseApiUrl = \"{_server.ApiUrl}\"\nassetName = \"vega.tar.gz\"\nchecksum = \"sha256:{new string('0', 64)}\"");
        var (visor, run, stop) = await StartVisorAsync();
        using (visor)
        using (stop)
        {
            var pid = visor.Runner.ProcessIds[0];
            await RequestUpgradeAsync("v2");
            await Eventually.WaitAsync(async () => { await PollAsync(1); return _server.Downloads > 0; }, "the download");
            await PollAsync(3);

            visor.Runner.ProcessIds.Should().Equal([pid], "the old version was never stopped");
            _started.Should().Equal("genesis");
            Directory.Exists(Path.Combine(_temp.Root, "v2")).Should().BeFalse();
            Directory.GetDirectories(_temp.Root, ".install-*").Should().BeEmpty("the download was deleted");
            _server.Downloads.Should().Be(1, "a refused version is not downloaded again");
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_zip_slip_archive_is_refused_and_nothing_lands_outside()
    {
        var zip = ReleaseServer.Zip(("vega", "exec sleep 600"), ("../../evil.sh", "echo pwned"));
        _server.Publish("v2", ("vega.zip", zip));
        var installer = new ReleaseInstaller(new HttpClient());
        var config = VisorConfigFile.Parse("c.toml", $"[autoInstall]\nenabled = true\nreleaseApiUrl = \"{_server.ApiUrl}\"\nassetName = \"vega.zip\"\nbinaryName = \"vega\"\nchecksum = \"sha256:{ReleaseServer.Sha256(zip)}\"\n");

        var install = () => installer.InstallAsync(_temp.Home, config, "v2");

        (await install.Should().ThrowAsync<UnsafeArchiveException>()).Which.Message.Should().Contain("../../evil.sh");
        File.Exists(Path.Combine(_temp.Parent, "evil.sh")).Should().BeFalse();
        File.Exists(Path.Combine(Path.GetDirectoryName(_temp.Parent)!, "evil.sh")).Should().BeFalse();
        Directory.Exists(Path.Combine(_temp.Root, "v2")).Should().BeFalse();
    }

    [Fact]
    public async Task Without_a_checksum_nothing_is_installed_unless_the_unsafe_option_says_so()
    {
        var binary = System.Text.Encoding.UTF8.GetBytes("#!/bin/sh\nexec sleep 600\n");
        _server.Publish("v2", ("vega", binary));
        var installer = new ReleaseInstaller(new HttpClient());
        var strict = new VisorConfig { AutoInstall = new AutoInstallConfig { Enabled = true, AssetUrlTemplate = _server.DownloadUrl("vega") } };

        var refused = () => installer.InstallAsync(_temp.Home, strict, "v2");
        (await refused.Should().ThrowAsync<InstallException>()).Which.Message.Should().Contain("no checksum");
        _server.Downloads.Should().Be(0, "nothing is downloaded without a checksum to check it against");

        var unsafeConfig = strict with { AutoInstall = strict.AutoInstall with { UnsafeAllowMissingChecksum = true } };
        var folder = await installer.InstallAsync(_temp.Home, unsafeConfig, "v2");
        RunConfigFile.Load(folder).Processes[0].Path.Should().Be(Path.Combine(folder, "vega"));
    }

    [Fact]
    public async Task Prepare_installs_ahead_from_a_url_template_with_a_fixed_checksum()
    {
        var binary = System.Text.Encoding.UTF8.GetBytes("#!/bin/sh\nexec sleep 600\n");
        _server.Publish("v3.1.0", ("node-v3.1.0-linux", binary));
        var config = new VisorConfig
        {
            AutoInstall = new AutoInstallConfig
            {
                Enabled = true,
                AssetUrlTemplate = _server.DownloadUrl("node-{tag}-{os}"),
                Checksum = "sha256:" + ReleaseServer.Sha256(binary),
            },
        };

        var folder = await new ReleaseInstaller(new HttpClient()).InstallAsync(_temp.Home, config, "v3.1.0");

        folder.Should().Be(Path.Combine(_temp.Root, "v3.1.0"));
        (File.GetUnixFileMode(Path.Combine(folder, "node-v3.1.0-linux")) & UnixFileMode.UserExecute).Should().NotBe(0);
        var again = () => new ReleaseInstaller(new HttpClient()).InstallAsync(_temp.Home, config, "v3.1.0");
        await again.Should().ThrowAsync<InstallException>().WithMessage("*already exists*");
    }

    [Fact]
    public async Task The_version_check_refuses_a_binary_that_reports_another_version()
    {
        File.WriteAllText(_temp.Home.ConfigPath, "checkBinaryVersion = true\n");
        _temp.Version("v2", "if [ \"$1\" = version ]; then echo '{\"version\": \"v1.9\"}'; exit 0; fi\nexec sleep 600");
        _temp.Version("v3", "if [ \"$1\" = version ]; then echo '{\"version\": \"v3\"}'; exit 0; fi\nexec sleep 600");
        var (visor, run, stop) = await StartVisorAsync();
        using (visor)
        using (stop)
        {
            await RequestUpgradeAsync("v2");
            await PollAsync(3);
            _started.Should().Equal("genesis");

            await RequestUpgradeAsync("v3");
            await AdvanceUntilAsync(() => _started.Contains("v3"), "v3, whose version matches");
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task The_pre_upgrade_hook_gets_tag_and_height_and_a_failing_hook_cancels_the_switch()
    {
        var log = Path.Combine(_temp.Parent, "hook.log");
        var hook = TempHome.Script(_temp.Parent, "hook.sh", $"echo \"$1 $2\" >> {log}\n[ \"$1\" = v3 ]");
        File.WriteAllText(_temp.Home.ConfigPath, $"preUpgradeHook = \"{hook}\"\n");
        _temp.Version("v2", "exec sleep 600");
        _temp.Version("v3", "exec sleep 600");
        var (visor, run, stop) = await StartVisorAsync();
        using (visor)
        using (stop)
        {
            await RequestUpgradeAsync("v2");
            await AdvanceUntilAsync(() => _started.Count == 2, "genesis to start again after the failed hook");
            _started.Should().Equal("genesis", "genesis");
            _temp.Home.CurrentFolder().Should().Be(_temp.Home.GenesisFolder);

            await RequestUpgradeAsync("v3");
            await AdvanceUntilAsync(() => _started.Contains("v3"), "v3 after a successful hook");
            File.ReadAllLines(log).Should().Equal("v2 77", "v3 77");
            await stop.CancelAsync();
            await run;
        }
    }
}
