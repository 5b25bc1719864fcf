using System.Diagnostics;
using Loop.Testing;

namespace Loop.Visor.Tests;

/// <summary>The loop-visor tool as a user runs it: a real process, real signals, exit codes.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempHome _temp = new(init: false);
    private readonly string _tool = BuiltProgram.Path("src/Loop.Visor.Cli", "loop-visor.dll");

    public void Dispose() => _temp.Dispose();

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
