using System.Diagnostics;
using Loop.Testing;

namespace Loop.Visor.Tests;

/// <summary>The loop-visor tool as a user runs it: a real process, real signals, exit codes.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempHome _temp = new(init: false);
    private readonly string _tool = BuiltProgram.Path("src/Loop.Visor.Cli", "loop-visor.dll");

    public void Dispose() => _temp.Dispose();

    private static void NoStackTrace((int Code, string Out, string Err) result) =>
        (result.Out + result.Err).Should().NotContain("   at ").And.NotContain("Unhandled exception");

    /// <summary>Starts loop-visor run on the home with its output collected.</summary>
    private (Process Visor, System.Collections.Concurrent.ConcurrentQueue<string> Output) StartRun(params string[] extra)
    {
        var visor = BuiltProgram.Start(_tool, ["run", "--home", _temp.Root, .. extra]);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        visor.OutputDataReceived += (_, e) => { if (e.Data is { } line) { output.Enqueue(line); } };
        visor.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { output.Enqueue(line); } };
        visor.BeginOutputReadLine();
        visor.BeginErrorReadLine();
        return (visor, output);
    }

    private static void Signal(Process process, string signal) =>
        Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    private async Task InitWithGenesisAsync(string body)
    {
        (await RunToolAsync("init", "--home", _temp.Root)).Code.Should().Be(0);
        TempHome.Script(Path.Combine(_temp.Root, "genesis"), "node.sh", body);
        RunConfigFile.Write(Path.Combine(_temp.Root, "genesis"), new RunConfig("genesis", [new ProcessSpec("vega", "node.sh", [], _temp.Mark)]));
    }

    /// <summary>Turns on auto install in the config.toml that init wrote, from the release API at <paramref name="api"/>.</summary>
    private async Task EnableAutoInstallAsync(string api)
    {
        var path = Path.Combine(_temp.Root, "config.toml");
        var config = (await File.ReadAllTextAsync(path))
            .Replace("enabled = false", "enabled = true", StringComparison.Ordinal)
            .Replace("releaseApiUrl = \"\"", $"releaseApiUrl = \"{api}\"", StringComparison.Ordinal)
            .Replace("assetName = \"\"", "assetName = \"vega.tar.gz\"", StringComparison.Ordinal)
            .Replace("checksum = \"\"", "checksum = \"SHA256SUMS\"", StringComparison.Ordinal);
        await File.WriteAllTextAsync(path, config);
    }

    [Theory]
    [InlineData("init", "--with-data-node")]
    [InlineData("run", "--relink-genesis")]
    [InlineData("add-upgrade", "--height")]
    [InlineData("prepare-upgrade", "<tag>")]
    [InlineData("status", "--home")]
    [InlineData("clear-refused", "<tag>")]
    public async Task Every_command_has_help_describing_its_options(string command, string option)
    {
        var help = await RunToolAsync(command, "--help");

        help.Code.Should().Be(0, help.Err);
        help.Out.Should().Contain("Description:").And.Contain(option).And.Contain("--home");
    }

    [Fact]
    public async Task Version_works_as_an_option_and_a_command()
    {
        var option = await RunToolAsync("--version");
        option.Code.Should().Be(0);
        option.Out.Trim().Should().MatchRegex(@"^\d+\.\d+\.\d+");
        (await RunToolAsync("version")).Out.Should().StartWith("loop-visor ");
    }

    [Theory]
    [InlineData("add-upgrade", "--home", "H", "v2", "/bin/true", "--height", "abc")]
    [InlineData("add-upgrade", "--home", "H", "v2", "/bin/true", "--height", "-3")]
    [InlineData("add-upgrade", "--home", "H", "v2")]
    [InlineData("run")]
    [InlineData("nonsense")]
    [InlineData("status", "--home")]
    [InlineData("add-upgrade", "--home", "H", "current", "/bin/true")]
    [InlineData("add-upgrade", "--home", "H", "../../x", "/bin/true")]
    [InlineData("status", "--home", "H/nowhere")]
    public async Task Bad_command_lines_exit_1_with_a_message_and_no_stack_trace(params string[] args)
    {
        (await RunToolAsync("init", "--home", _temp.Root)).Code.Should().Be(0);

        var result = await RunToolAsync([.. args.Select(a => a.Replace("H", _temp.Root, StringComparison.Ordinal))]);

        result.Code.Should().Be(VisorExitCodes.ConfigError, result.Out + result.Err);
        result.Err.Trim().Should().NotBeEmpty();
        NoStackTrace(result);
    }

    [Theory]
    [InlineData(ReleaseServerFault.None, false)]
    [InlineData(ReleaseServerFault.Html, true)]
    public async Task Prepare_upgrade_exits_3_when_the_release_server_is_down_or_answers_html(ReleaseServerFault fault, bool serverUp)
    {
        await using var server = await ReleaseServer.StartAsync();
        server.Fault = fault;
        (await RunToolAsync("init", "--home", _temp.Root)).Code.Should().Be(0);
        var api = serverUp ? server.ApiUrl : $"http://127.0.0.1:{FreePort.Next()}/repos/loop/node";
        await EnableAutoInstallAsync(api);

        var result = await RunToolAsync("prepare-upgrade", "--home", _temp.Root, "v2");

        result.Code.Should().Be(VisorExitCodes.UpgradeFailed, result.Err);
        result.Err.Should().Contain(serverUp ? "did not answer with JSON" : "127.0.0.1");
        NoStackTrace(result);
        Directory.Exists(Path.Combine(_temp.Root, "v2")).Should().BeFalse();
    }

    [Fact]
    public async Task SIGTERM_during_a_stalled_auto_install_download_stops_the_children_and_exits_0()
    {
        await using var server = await ReleaseServer.StartAsync();
        var archive = ReleaseServer.TarGz(("vega", "exec sleep 600"));
        server.Publish("v2", ("vega.tar.gz", archive), ("SHA256SUMS", ReleaseServer.SumsFile(("vega.tar.gz", archive))));
        server.Fault = ReleaseServerFault.StallDownloads;
        await InitWithGenesisAsync(NeverUnsupervisedTests.SlowStopper);
        await EnableAutoInstallAsync(server.ApiUrl);
        Directory.CreateDirectory(Path.Combine(_temp.Root, "data"));
        await File.WriteAllTextAsync(Path.Combine(_temp.Root, "data", "upgrade-info.json"), "{\"name\":\"v2\",\"height\":10}");

        var (visor, output) = StartRun();
        using (visor)
        {
            await server.Stalled.Task.WaitAsync(Eventually.DefaultTimeout);
            ProcessLeaks.Find(_temp.Parent).Should().HaveCountGreaterThan(1, "Visor and genesis run");

            Signal(visor, "TERM");
            await visor.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);

            visor.ExitCode.Should().Be(VisorExitCodes.Stopped, string.Join('\n', output));
            ProcessLeaks.Find(_temp.Parent).Should().BeEmpty("genesis was stopped before Visor exited");
        }
    }

    [Fact]
    public async Task Run_refuses_a_home_whose_current_is_missing_after_an_upgrade_unless_told_to_relink_genesis()
    {
        await InitWithGenesisAsync("exec sleep 600");
        var home = new VisorHome(_temp.Root);
        home.EnsureCurrent();
        TempHome.Script(Path.Combine(_temp.Root, "v2"), "node.sh", "exec sleep 600");
        RunConfigFile.Write(Path.Combine(_temp.Root, "v2"), new RunConfig("v2", [new ProcessSpec("vega", "node.sh", [], _temp.Mark)]));
        home.SwitchCurrent(Path.Combine(_temp.Root, "v2"));
        VisorStateFile.Update(home, s => s with { CurrentVersion = "v2" });
        File.Delete(home.CurrentLink);

        var refused = await RunToolAsync("run", "--home", _temp.Root);
        refused.Code.Should().Be(VisorExitCodes.ConfigError);
        (refused.Out + refused.Err).Should().Contain("the last current version was v2");
        NoStackTrace(refused);

        var (visor, output) = StartRun("--relink-genesis");
        using (visor)
        {
            await Eventually.WaitAsync(() => output.Any(l => l.Contains("running version genesis", StringComparison.Ordinal)), "genesis to run");
            Signal(visor, "TERM");
            await visor.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
            visor.ExitCode.Should().Be(VisorExitCodes.Stopped);
        }
    }

    [Fact]
    public async Task A_plain_folder_for_current_exits_1_with_a_clear_message()
    {
        await InitWithGenesisAsync("exec sleep 600");
        Directory.CreateDirectory(Path.Combine(_temp.Root, "current"));

        var result = await RunToolAsync("run", "--home", _temp.Root);

        result.Code.Should().Be(VisorExitCodes.ConfigError);
        (result.Out + result.Err).Should().Contain("is a plain folder, not a link").And.NotContain("errno");
    }

    [Fact]
    public async Task Status_shows_the_running_processes_the_last_upgrade_a_rollback_and_refusals_which_clear_refused_clears()
    {
        await InitWithGenesisAsync("exec sleep 600");
        TempHome.Script(Path.Combine(_temp.Root, "v2"), "node.sh", "exec sleep 600");
        RunConfigFile.Write(Path.Combine(_temp.Root, "v2"), new RunConfig("v2", [new ProcessSpec("vega", "node.sh", [], _temp.Mark)]));
        TempHome.Script(Path.Combine(_temp.Root, "v3"), "node.sh", "exit 7");
        RunConfigFile.Write(Path.Combine(_temp.Root, "v3"), new RunConfig("v3", [new ProcessSpec("vega", "node.sh", [], _temp.Mark)]));
        Directory.CreateDirectory(Path.Combine(_temp.Root, "data"));
        var info = Path.Combine(_temp.Root, "data", "upgrade-info.json");
        await File.WriteAllTextAsync(info, "{\"name\":\"v2\",\"height\":50}");

        var (visor, output) = StartRun();
        using (visor)
        {
            await Eventually.WaitAsync(() => output.Any(l => l.Contains("running version v2", StringComparison.Ordinal)), "the upgrade to v2");
            await File.WriteAllTextAsync(info, "{\"name\":\"v3\",\"height\":60}");
            await Eventually.WaitAsync(() => output.Count(l => l.Contains("running version v2", StringComparison.Ordinal)) == 2, "the rollback of v3 to v2", TimeSpan.FromSeconds(60));
            await Eventually.WaitAsync(() => VisorStateFile.Load(new VisorHome(_temp.Root)).Running?.Version == "v2", "the running record");

            var status = await RunToolAsync("status", "--home", _temp.Root);

            status.Code.Should().Be(0, status.Err);
            status.Out.Should().Contain($"visor:        running (pid {visor.Id})");
            status.Out.Should().Contain("current:      v2 (").And.Contain("upgraded to at height 50");
            status.Out.Should().MatchRegex(@"process:      vega pid \d+, up since \d{4}-\d\d-\d\d ");
            status.Out.Should().Contain("last upgrade: v2 -> v3 at height 60");
            status.Out.Should().Contain("previous:     (none)", "a version that was rolled back from is no rollback target");
            status.Out.Should().Contain("rollback:     v3 failed").And.Contain("exited 7").And.Contain("back to v2");
            status.Out.Should().Contain("refused:      v3 (height 60)");
            status.Out.Should().Contain("\"v3\"", "the pending upgrade-info.json is shown");

            await File.WriteAllTextAsync(info, "{}");
            var clear = await RunToolAsync("clear-refused", "--home", _temp.Root, "v3");
            clear.Code.Should().Be(0, clear.Err);
            (await RunToolAsync("status", "--home", _temp.Root)).Out.Should().NotContain("refused:");
            (await RunToolAsync("clear-refused", "--home", _temp.Root, "v3")).Code.Should().Be(VisorExitCodes.ConfigError);

            Signal(visor, "TERM");
            await visor.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        }

        (await RunToolAsync("status", "--home", _temp.Root)).Out.Should().Contain("visor:        not running").And.NotContain("process:");
    }

    private async Task<(int Code, string Out, string Err)> RunToolAsync(params string[] args)
    {
        using var process = BuiltProgram.Start(_tool, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Init_creates_the_home_and_refuses_to_run_twice()
    {
        var first = await RunToolAsync("init", "--home", _temp.Root, "--with-data-node");
        first.Code.Should().Be(0, first.Err);
        File.ReadAllText(Path.Combine(_temp.Root, "genesis", "run-config.toml")).Should().Contain("[data_node.binary]");

        var second = await RunToolAsync("init", "--home", _temp.Root);
        second.Code.Should().Be(VisorExitCodes.ConfigError);
        second.Err.Should().Contain("already exists");
    }

    [Fact]
    public async Task A_bad_config_exits_1_naming_file_line_and_key()
    {
        (await RunToolAsync("init", "--home", _temp.Root)).Code.Should().Be(0);
        await File.WriteAllTextAsync(Path.Combine(_temp.Root, "config.toml"), "maxNumberOfRestarts = 2\nrestartDelay = 4\n");

        var run = await RunToolAsync("run", "--home", _temp.Root);

        run.Code.Should().Be(VisorExitCodes.ConfigError);
        run.Err.Should().Contain($"{Path.Combine(_temp.Root, "config.toml")}:2: restartDelay: unknown key");
    }

    [Fact]
    public async Task Run_supervises_until_SIGTERM_then_stops_the_children_and_exits_0()
    {
        (await RunToolAsync("init", "--home", _temp.Root)).Code.Should().Be(0);
        var pidFile = Path.Combine(_temp.Parent, "child.pid");
        TempHome.Script(Path.Combine(_temp.Root, "genesis"), "node.sh", $"echo $$ > {pidFile}\nexec sleep 600");
        RunConfigFile.Write(Path.Combine(_temp.Root, "genesis"), new RunConfig("genesis", [new ProcessSpec("vega", "node.sh", [])]));

        using var visor = BuiltProgram.Start(_tool, "run", "--home", _temp.Root);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        visor.OutputDataReceived += (_, e) => { if (e.Data is { } line) { output.Enqueue(line); } };
        visor.BeginOutputReadLine();
        visor.BeginErrorReadLine();
        await Eventually.WaitAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, "the child to start");
        var child = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        Process.Start("kill", ["-TERM", visor.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await visor.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);

        visor.ExitCode.Should().Be(VisorExitCodes.Stopped);
        Directory.Exists($"/proc/{child}").Should().BeFalse("Visor stops its children before it exits");
        output.Should().Contain(l => l.Contains("running version genesis", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Add_upgrade_prepares_a_version_from_a_binary_and_status_reports_it()
    {
        (await RunToolAsync("init", "--home", _temp.Root)).Code.Should().Be(0);
        var binary = TempHome.Script(_temp.Parent, "vega-v2", "exec sleep 600");

        var add = await RunToolAsync("add-upgrade", "--home", _temp.Root, "v2.0.0", binary, "--height", "1200");
        add.Code.Should().Be(0, add.Err);
        var config = RunConfigFile.Load(Path.Combine(_temp.Root, "v2.0.0"));
        config.Name.Should().Be("v2.0.0");
        config.Processes[0].Path.Should().Be(Path.Combine(_temp.Root, "v2.0.0", "vega-v2"));
        File.ReadAllText(Path.Combine(_temp.Root, "v2.0.0", VersionInstaller.HeightFile)).Should().Be("1200");

        var traversal = await RunToolAsync("add-upgrade", "--home", _temp.Root, "../../x", binary);
        traversal.Code.Should().Be(VisorExitCodes.ConfigError);
        traversal.Err.Should().Contain("\"..\"");

        var status = await RunToolAsync("status", "--home", _temp.Root);
        status.Code.Should().Be(0);
        status.Out.Should().Contain("current:").And.Contain("(none pending)");
        (await RunToolAsync("version")).Out.Should().StartWith("loop-visor ");
    }

    [Fact]
    public async Task Add_upgrade_copies_a_prepared_version_folder()
    {
        (await RunToolAsync("init", "--home", _temp.Root)).Code.Should().Be(0);
        var prepared = Path.Combine(_temp.Parent, "release-v3");
        TempHome.Script(Path.Combine(prepared, "bin"), "node", "exec sleep 600");
        RunConfigFile.Write(prepared, new RunConfig("v3.0.0", [new ProcessSpec("vega", "bin/node", ["start"])]));

        var add = await RunToolAsync("add-upgrade", "--home", _temp.Root, "v3.0.0", prepared);

        add.Code.Should().Be(0, add.Err);
        var config = RunConfigFile.Load(Path.Combine(_temp.Root, "v3.0.0"));
        config.Processes[0].Path.Should().Be(Path.Combine(_temp.Root, "v3.0.0", "bin", "node"));
        (File.GetUnixFileMode(config.Processes[0].Path) & UnixFileMode.UserExecute).Should().NotBe(0, "modes are kept");

        var again = await RunToolAsync("add-upgrade", "--home", _temp.Root, "v3.0.0", prepared);
        again.Code.Should().Be(VisorExitCodes.ConfigError);
        again.Err.Should().Contain("already exists");

        var empty = Directory.CreateDirectory(Path.Combine(_temp.Parent, "empty")).FullName;
        var noConfig = await RunToolAsync("add-upgrade", "--home", _temp.Root, "v4.0.0", empty);
        noConfig.Err.Should().Contain("has no run-config.toml");
    }
}
