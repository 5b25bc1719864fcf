using Loop.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Loop.Visor.Tests;

/// <summary>The runner with real child processes.</summary>
public sealed class BinariesRunnerTests : IDisposable
{
    private readonly TempHome _temp = new(init: false);

    public void Dispose() => _temp.Dispose();

    private ProcessSpec Process(string name, string body) => new(name, TempHome.Script(_temp.Parent, name + ".sh", body), []);

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    [Fact]
    public async Task When_one_process_exits_the_others_are_stopped_and_the_run_reports_it()
    {
        var collector = new FakeLogCollector();
        var runner = new BinariesRunner(logger: new FakeLogger<BinariesRunner>(collector));
        var gate = Path.Combine(_temp.Parent, "go");
        var config = new RunConfig("v1", [
            Process("vega", "echo hello from vega\nexec sleep 600"),
            Process("data_node", $"echo oops >&2\nwhile [ ! -f {gate} ]; do sleep 0.05; done\nexit 3"),
        ]);

        var run = runner.RunAsync(config);
        await Eventually.WaitAsync(() => runner.ProcessIds.Count == 2, "both processes running");
        // vega must have written its line before data_node exits: on a loaded machine its shell
        // may not have reached the echo yet when the set is stopped (a CI run failed that way).
        await Eventually.WaitAsync(() => collector.GetSnapshot().Any(r => r.Message == "[vega] hello from vega"), "vega's stdout in the log");
        await Eventually.WaitAsync(() => collector.GetSnapshot().Any(r => r.Message == "[data_node] oops" && r.Level == LogLevel.Warning), "data_node's stderr logged as a warning");
        var pids = runner.ProcessIds.ToArray();
        await File.WriteAllTextAsync(gate, "");
        var exit = await run.WaitAsync(Eventually.DefaultTimeout);

        exit.Should().Be(new BinariesExit("data_node", 3, Stopped: false));
        pids.Should().AllSatisfy(pid => Alive(pid).Should().BeFalse("the whole set goes down together"));
    }

    [Fact]
    public async Task A_clean_exit_also_ends_the_run()
    {
        var runner = new BinariesRunner();
        var exit = await runner.RunAsync(new RunConfig("v1", [Process("vega", "exit 0"), Process("other", "exec sleep 600")])).WaitAsync(Eventually.DefaultTimeout);
        exit.Should().Be(new BinariesExit("vega", 0, Stopped: false));
    }

    [Fact]
    public async Task Stop_sends_SIGTERM_and_a_process_that_ignores_it_is_killed_after_the_timeout()
    {
        var runner = new BinariesRunner(new BinariesRunnerOptions { StopTimeout = TimeSpan.FromMilliseconds(500) });
        var marker = Path.Combine(_temp.Parent, "trapped");
        var ready = Path.Combine(_temp.Parent, "trap-installed");
        var config = new RunConfig("v1", [
            Process("stubborn", $"trap 'echo term > {marker}' TERM\ntouch {ready}\nwhile true; do sleep 0.05; done"),
            Process("polite", "exec sleep 600"),
        ]);
        using var cts = new CancellationTokenSource();
        var run = runner.RunAsync(config, cts.Token);
        await Eventually.WaitAsync(() => runner.ProcessIds.Count == 2 && File.Exists(ready), "both running, the trap installed");
        var pids = runner.ProcessIds.ToArray();

        await cts.CancelAsync();
        var exit = await run.WaitAsync(Eventually.DefaultTimeout);

        exit.Stopped.Should().BeTrue();
        File.Exists(marker).Should().BeTrue("the stubborn process got SIGTERM first");
        pids.Should().AllSatisfy(pid => Alive(pid).Should().BeFalse("SIGKILL followed the timeout"));
    }

    [Fact]
    public async Task Missing_and_non_executable_binaries_are_clear_errors_and_nothing_starts()
    {
        var runner = new BinariesRunner();
        var missing = () => runner.RunAsync(new RunConfig("v1", [new ProcessSpec("vega", Path.Combine(_temp.Parent, "nope"), [])]));
        (await missing.Should().ThrowAsync<VisorBinaryException>()).Which.Message.Should().Contain("vega").And.Contain("does not exist");

        var plain = Path.Combine(_temp.Parent, "plain");
        await File.WriteAllTextAsync(plain, "#!/bin/sh\nexit 0\n");
        var notExecutable = () => runner.RunAsync(new RunConfig("v1", [Process("ok", "exec sleep 600"), new ProcessSpec("vega", plain, [])]));
        (await notExecutable.Should().ThrowAsync<VisorBinaryException>()).Which.Message.Should().Contain("not executable");
        runner.ProcessIds.Should().BeEmpty();
    }

    [Fact]
    public async Task A_wrapper_without_exec_is_stopped_with_its_child_and_the_wait_does_not_hang_on_their_pipes()
    {
        var runner = new BinariesRunner(new BinariesRunnerOptions { StopTimeout = TimeSpan.FromSeconds(5) });
        using var cts = new CancellationTokenSource();
        var run = runner.RunAsync(new RunConfig("v1", [Process("wrapper", "sleep 600\necho done")]), cts.Token);
        await Eventually.WaitAsync(() => ProcessLeaks.Find(_temp.Parent).Count == 2, "the wrapper and the sleep it started");

        await cts.CancelAsync();
        var exit = await run.WaitAsync(Eventually.DefaultTimeout);

        exit.Stopped.Should().BeTrue();
        ProcessLeaks.Find(_temp.Parent).Should().BeEmpty("SIGTERM went to the wrapper's whole process group");
    }

    [Fact]
    public async Task A_grandchild_that_ignores_SIGTERM_is_killed_with_its_group_after_the_timeout()
    {
        var collector = new FakeLogCollector();
        var runner = new BinariesRunner(new BinariesRunnerOptions { StopTimeout = TimeSpan.FromMilliseconds(500) }, new FakeLogger<BinariesRunner>(collector));
        using var cts = new CancellationTokenSource();
        // The child says when it ignores SIGTERM: a child counted before its trap was set died of the SIGTERM (a CI run saw it).
        var ready = Path.Combine(_temp.Parent, "trapped");
        var run = runner.RunAsync(new RunConfig("v1", [Process("wrapper", $"(trap '' TERM; touch '{ready}'; exec sleep 600)\necho done")]), cts.Token);
        await Eventually.WaitAsync(() => File.Exists(ready) && ProcessLeaks.Find(_temp.Parent).Count == 2, "the wrapper and its stubborn child");

        await cts.CancelAsync();
        (await run.WaitAsync(Eventually.DefaultTimeout)).Stopped.Should().BeTrue();

        ProcessLeaks.Find(_temp.Parent).Should().BeEmpty();
        collector.GetSnapshot().Should().Contain(r => r.Message.Contains("SIGKILL", StringComparison.Ordinal), "the stubborn child outlived SIGTERM");
    }

    [Fact]
    public async Task What_an_exited_process_left_running_in_its_group_is_stopped_with_the_set()
    {
        var runner = new BinariesRunner();
        var exit = await runner.RunAsync(new RunConfig("v1", [Process("vega", "sleep 600 &\nexit 3")])).WaitAsync(Eventually.DefaultTimeout);

        exit.Should().Be(new BinariesExit("vega", 3, Stopped: false));
        ProcessLeaks.Find(_temp.Parent).Should().BeEmpty("the background sleep was in vega's process group");
    }

    [Fact]
    public void Options_out_of_range_are_refused_when_the_runner_is_made()
    {
        var make = () => new BinariesRunner(new BinariesRunnerOptions { StopTimeout = TimeSpan.Zero, StopDelay = TimeSpan.FromSeconds(-1) });
        make.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().Which.Failures.Should().BeEquivalentTo(
            "BinariesRunnerOptions.StopDelay must not be negative (was -00:00:01)",
            "BinariesRunnerOptions.StopTimeout must be positive (was 00:00:00)");
    }
}
