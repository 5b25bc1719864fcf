using System.Diagnostics;
using System.Diagnostics.Metrics;
using Loop.Sample.V1;
using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Plugins.Tests;

/// <summary>Supervision of the real sample plugin: relaunch after a crash or a hang, readiness, stop.</summary>
public sealed class PluginServiceTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;
    private static readonly string Plugin = SamplePlugin.Binary;
    private static readonly PortPool Ports = new(31_500, 32_599); // BrokerTests has 32600-32689
    private readonly FakeTimeProvider _time = new();

    // A loaded 2-core CI machine can take over a second to answer; the test is about relaunching dead or hung plugins.
    private static PluginServiceOptions Patient() => new() { HealthTimeout = TimeSpan.FromSeconds(10) };

    private static Func<ProcessStartInfo> Command(string id, params string[] args)
    {
        // One pool for the class: two plugins of one test (or of tests running at once) never get the same Prometheus
        // port, which a pool each could hand out twice before either plugin bound it (the second plugin then dies).
        var factory = LoopCommands.RegisterLoop(new LoopRegistry(Ports), new CmdConfig(id, Plugin));
        return () =>
        {
            var start = factory();
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            return start;
        };
    }

    /// <summary>Loggers at Debug into <paramref name="logs"/>: the host's own lines and each plugin's.</summary>
    private static ILoggerFactory DebugLoggers(Microsoft.Extensions.Logging.Testing.FakeLogCollector logs) =>
        Microsoft.Extensions.Logging.LoggerFactory.Create(b => b
            .SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug)
            .AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider(logs)));

    private async Task KeepAliveUntilAsync(PluginService service, long launches) =>
        await Eventually.WaitAsync(
            () =>
            {
                if (service.Launches >= launches && service.Client is not null)
                {
                    return true;
                }

                _time.Advance(TimeSpan.FromSeconds(5));
                return false;
            },
            $"launch {launches}");

    [Fact]
    public async Task A_plugin_that_crashes_is_relaunched_and_calls_resume()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = meters.GetRequiredService<IMeterFactory>();
        using var relaunches = new MetricCollector<long>(factory, PluginService.MeterName, "loop.plugins.relaunches");
        using var launches = new MetricCollector<long>(factory, PluginService.MeterName, "loop.plugins.launches");
        await using var service = new PluginService("crashy", Command("crashy", "--crash-after", "2"), Handshake, Patient(), timeProvider: _time, meterFactory: factory);
        service.CheckReady().Should().NotBeNull();
        await service.StartAsync();
        await KeepAliveUntilAsync(service, 1);
        var first = await service.WaitAsync();
        service.CheckReady().Should().BeNull();

        var echo = new Echo.EchoClient(first.Channel);
        await echo.SayAsync(new EchoRequest { Text = "a" });
        await echo.SayAsync(new EchoRequest { Text = "b" });
        var crash = async () => await echo.SayAsync(new EchoRequest { Text = "boom" });
        await crash.Should().ThrowAsync<Grpc.Core.RpcException>();
        await first.Exited.WaitAsync(Eventually.DefaultTimeout);

        await KeepAliveUntilAsync(service, 2);
        var second = await service.WaitAsync();
        second.ProcessId.Should().NotBe(first.ProcessId);
        (await new Echo.EchoClient(second.Channel).SayAsync(new EchoRequest { Text = "again" })).Calls.Should().Be(1, "a fresh process answers");
        relaunches.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["plugin"].Should().Be("crashy");
        launches.GetMeasurementSnapshot().Should().HaveCount(2).And.OnlyContain(m => (string?)m.Tags["outcome"] == "succeeded");
    }

    [Fact]
    public async Task A_plugin_that_hangs_is_relaunched()
    {
        await using var service = new PluginService("hangy", Command("hangy", "--hang-after", "1"), Handshake, Patient(), timeProvider: _time);
        await service.StartAsync();
        await KeepAliveUntilAsync(service, 1);
        var first = await service.WaitAsync();
        var echo = new Echo.EchoClient(first.Channel);
        await echo.SayAsync(new EchoRequest { Text = "ok" });
        _ = echo.SayAsync(new EchoRequest { Text = "stuck" });

        await KeepAliveUntilAsync(service, 2);
        service.Client!.ProcessId.Should().NotBe(first.ProcessId);
        Directory.Exists($"/proc/{first.ProcessId}").Should().BeFalse("the hung process was killed");
    }

    [Fact]
    public async Task Failed_launches_are_retried_with_backoff_and_reported_as_unavailable()
    {
        var options = new PluginServiceOptions { Client = new PluginClientOptions { StartTimeout = TimeSpan.FromMilliseconds(300) } };
        await using var service = new PluginService("silent", Command("silent", "--no-handshake"), Handshake, options, timeProvider: _time);
        await service.StartAsync();

        await Eventually.WaitAsync(() => service.CheckReady()?.Message.Contains("timeout while waiting", StringComparison.Ordinal) == true, "the first failed launch");
        service.CheckReady().Should().BeOfType<PluginUnavailableException>().Which.Message.Should().StartWith("plugin silent unavailable");
        var wait = () => service.WaitAsync(new CancellationTokenSource(TimeSpan.FromMilliseconds(200)).Token);
        await wait.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Stopping_the_service_stops_the_plugin_once()
    {
        var service = new PluginService("sample", Command("sample"), Handshake, Patient(), timeProvider: _time);
        await service.StartAsync();
        await KeepAliveUntilAsync(service, 1);
        var client = await service.WaitAsync();

        await Task.WhenAll(service.StopAsync(), service.StopAsync());

        Directory.Exists($"/proc/{client.ProcessId}").Should().BeFalse();
        service.CheckReady().Should().NotBeNull();
        var wait = () => service.WaitAsync();
        await wait.Should().ThrowAsync<PluginUnavailableException>();
    }

    [Fact]
    public async Task A_plugin_killed_with_SIGKILL_is_unavailable_at_once_and_relaunched_without_waiting_for_the_keep_alive()
    {
        await using var service = new PluginService("killed", Command("killed"), Handshake, Patient(), timeProvider: _time);
        await service.StartAsync();
        // The first launch comes from the start itself; the clock is never moved, so no keep-alive tick is in flight.
        var first = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        var health = new Loop.Services.LoopServiceHealthCheck(service);

        Process.Start("kill", ["-KILL", first.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

        // The clock does not move: neither the readiness change nor the relaunch waits for a keep-alive tick.
        await Eventually.WaitAsync(() => service.Launches == 2 && service.Client is { } c && c.ProcessId != first.ProcessId, "the relaunch on exit");
        first.ExitCode.Should().Be(137, "128 + SIGKILL");
        service.CheckReady().Should().BeNull();
        (await health.CheckHealthAsync(null!)).Status.Should().Be(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy);
    }

    [Fact]
    public async Task Readiness_and_the_health_check_say_why_a_plugin_is_unavailable_from_the_moment_it_exits()
    {
        // A relaunch that cannot complete (the next launches time out), so the state after the exit stays visible.
        var launches = 0;
        var sample = Command("exits");
        var options = new PluginServiceOptions { HealthTimeout = TimeSpan.FromSeconds(10), Client = new PluginClientOptions { StartTimeout = TimeSpan.FromSeconds(30) } };
        await using var service = new PluginService(
            "exits",
            () =>
            {
                var start = sample();
                if (Interlocked.Increment(ref launches) > 1)
                {
                    start.ArgumentList.Add("--no-handshake");
                }

                return start;
            },
            Handshake,
            options,
            timeProvider: _time);
        await service.StartAsync();
        // The first launch comes from the start itself; the clock is never moved, so no keep-alive tick is in flight.
        var first = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);

        Process.Start("kill", ["-KILL", first.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await Eventually.WaitAsync(() => service.CheckReady() is not null, "unavailable after the exit");

        service.CheckReady()!.Message.Should().Be("plugin exits unavailable: exited with code 137");
        var report = await new Loop.Services.LoopServiceHealthCheck(service).CheckHealthAsync(null!);
        report.Status.Should().Be(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy);
        report.Description.Should().Contain("plugin exits unavailable: exited with code 137");
    }

    [Fact]
    public async Task A_plugin_that_misses_fewer_checks_than_the_threshold_is_kept_and_one_that_stays_stopped_is_relaunched()
    {
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        var options = new PluginServiceOptions { HealthTimeout = TimeSpan.FromSeconds(2), UnhealthyThreshold = 3 };
        await using var service = new PluginService("stopped", Command("stopped"), Handshake, options, new Microsoft.Extensions.Logging.Testing.FakeLogger<PluginService>(logs), _time);
        await service.StartAsync();
        var first = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        int Failed() => logs.GetSnapshot().Count(r => r.Id.Id == 422);

        // One keep-alive tick at a time: advance the clock once, then wait for that check's outcome.
        async Task TickAsync(Func<bool> outcome, string what)
        {
            _time.Advance(options.KeepAliveInterval);
            await Eventually.WaitAsync(outcome, what);
        }

        void Signal(string signal) => Process.Start("kill", [$"-{signal}", first.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

        // Stopped (SIGSTOP) for two checks, then running again: a slow plugin, not a dead one.
        Signal("STOP");
        await TickAsync(() => Failed() == 1, "the first failed check");
        await TickAsync(() => Failed() == 2, "the second failed check");
        Signal("CONT");
        await TickAsync(() => logs.GetSnapshot().Any(r => r.Id.Id is 423 or 420) || Failed() > 2, "the check to pass again");
        logs.GetSnapshot().Select(r => r.Message).Should().Contain(m => m.Contains("answers its health check again", StringComparison.Ordinal), string.Join("\n", logs.GetSnapshot().Select(r => r.Message)));
        service.Launches.Should().Be(1);
        service.Client!.ProcessId.Should().Be(first.ProcessId);

        // Stopped for good: relaunched after the third failed check in a row, with the reason logged.
        Signal("STOP");
        await TickAsync(() => Failed() == 3, "a failed check");
        await TickAsync(() => Failed() == 4, "a second failed check");
        service.Launches.Should().Be(1, "two failed checks are below the threshold");
        await TickAsync(() => service.Launches == 2 && service.Client is not null, "the relaunch at the third");
        Failed().Should().Be(4, "two before, then two more below the threshold; the third of a row relaunches");
        logs.GetSnapshot().Should().Contain(r => r.Id.Id == 420 && r.Message.Contains("failed 3 health checks in a row", StringComparison.Ordinal));
        await Eventually.WaitAsync(() => !Directory.Exists($"/proc/{first.ProcessId}"), "the stopped process killed");
    }

    [Fact]
    public async Task A_plugin_sends_its_debug_lines_when_the_host_logs_that_plugin_at_debug()
    {
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b
            .SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Information)
            .AddFilter(PluginService.PluginCategoryPrefix + "chatty", Microsoft.Extensions.Logging.LogLevel.Debug)
            .AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider(logs)));
        await using var service = new PluginService(
            "chatty", Command("chatty"), Handshake, Patient(), loggers.CreateLogger<PluginService>(), _time, loggerFactory: loggers);
        await service.StartAsync();
        var client = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);

        await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "hi" });

        await Eventually.WaitAsync(() => logs.GetSnapshot().Any(r => r.Message == "plugin.chatty: echo call 1: hi"), "the plugin's Debug line");
        logs.GetSnapshot().Single(r => r.Message == "plugin.chatty: echo call 1: hi").Level.Should().Be(Microsoft.Extensions.Logging.LogLevel.Debug);
    }
    [Fact]
    public async Task Calls_on_the_supervised_channel_get_the_timeout_floor_when_their_deadline_is_sooner()
    {
        // Every Say answers 300 ms late; the caller asks for 1 ms, like a placeholder MaxDurationQuery of zero would.
        DateTime Soon() => TimeProvider.System.GetUtcNow().UtcDateTime.AddMilliseconds(1);
        var patient = Patient();
        patient.Client.CallTimeoutFloor = TimeSpan.FromSeconds(30);
        await using var floored = new PluginService("floored", Command("floored", "--answer-after-ms", "300"), Handshake, patient, timeProvider: _time);
        var strict = Patient();
        strict.Client.CallTimeoutFloor = TimeSpan.FromMilliseconds(20);
        await using var bare = new PluginService("bare", Command("bare", "--answer-after-ms", "300"), Handshake, strict, timeProvider: _time);
        await Task.WhenAll(floored.StartAsync(), bare.StartAsync());
        var client = await floored.WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        var control = await bare.WaitAsync().WaitAsync(Eventually.DefaultTimeout);

        client.CallTimeoutFloor.Should().Be(TimeSpan.FromSeconds(30));
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "late" }, deadline: Soon())).Text.Should().Be("late");
        var noDeadline = await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "unbounded" });
        noDeadline.Text.Should().Be("unbounded", "a call without a deadline is left alone");

        // The control: the same call with a floor below the answer time runs out.
        var late = async () => await new Echo.EchoClient(control.Channel).SayAsync(new EchoRequest { Text = "late" }, deadline: Soon());
        (await late.Should().ThrowAsync<Grpc.Core.RpcException>()).Which.StatusCode.Should().Be(Grpc.Core.StatusCode.DeadlineExceeded);
    }

    [Fact]
    public void A_floor_that_is_not_positive_is_refused_when_the_service_is_made()
    {
        var options = Patient();
        options.Client.CallTimeoutFloor = TimeSpan.Zero;
        var make = () => new PluginService("zero", Command("zero"), Handshake, options, timeProvider: _time);
        make.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().Which.Failures
            .Should().Contain("PluginServiceOptions[zero].Client.CallTimeoutFloor must be positive (was 00:00:00)");
    }

    [Fact]
    public void Options_handed_to_the_constructor_are_validated_all_at_once_naming_the_plugin()
    {
        // A zero KeepAliveInterval used to crash later naming neither the setting nor the plugin; a zero RelaunchBackoff
        // wrote a warning per failed launch without pause; a negative HealthTimeout was accepted.
        var options = new PluginServiceOptions { KeepAliveInterval = TimeSpan.Zero, RelaunchBackoff = TimeSpan.Zero, HealthTimeout = TimeSpan.FromSeconds(-1) };
        var make = () => new PluginService("careless", Command("careless"), Handshake, options, timeProvider: _time);
        make.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().Which.Failures.Should().BeEquivalentTo(
            "PluginServiceOptions[careless].KeepAliveInterval must be positive (was 00:00:00)",
            "PluginServiceOptions[careless].HealthTimeout must be positive (was -00:00:01)",
            "PluginServiceOptions[careless].RelaunchBackoff must be positive (was 00:00:00)");
    }

    [Fact]
    public async Task A_graceful_stop_logs_no_error_from_the_plugin()
    {
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        using var loggers = DebugLoggers(logs);
        var service = new PluginService("quiet", Command("quiet"), Handshake, Patient(), loggers.CreateLogger<PluginService>(), _time, loggerFactory: loggers);
        await service.StartAsync();
        var client = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "bye" })).Text.Should().Be("bye");

        await service.StopAsync();
        await Eventually.WaitAsync(() => !Directory.Exists($"/proc/{client.ProcessId}"), "the plugin gone");

        // The host closing its broker and stdio streams on the way out is how every stop goes: not an error, and no
        // stack trace in the host's log.
        logs.GetSnapshot().Where(r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(r => $"{r.Category}: {r.Message}")
            .Should().BeEmpty();
    }

    [Fact]
    public async Task A_host_that_resets_its_broker_stream_is_not_an_error_in_the_plugin()
    {
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        using var loggers = DebugLoggers(logs);
        await using var service = new PluginService("reset", Command("reset"), Handshake, Patient(), loggers.CreateLogger<PluginService>(), _time, loggerFactory: loggers);
        await service.StartAsync();
        var client = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);

        // What a host does on its way out (or a Go host when it closes the broker): the stream is reset, not ended.
        // Whether the plugin's read sees the reset as a cancellation or as an IOException is a race: reset it many times.
        for (var i = 0; i < 30; i++)
        {
            using var reset = new CancellationTokenSource();
            using var call = new Loop.Plugins.Protocol.GRPCBroker.GRPCBrokerClient(client.Channel).StartStream(cancellationToken: reset.Token);
            await call.RequestStream.WriteAsync(new Loop.Plugins.Protocol.ConnInfo { ServiceId = 99, Network = "unix", Address = "/nonexistent" });
            await reset.CancelAsync();
        }

        // Three round trips later, the plugin has long handled the reset; each call's own Debug line shows it is logging.
        for (var i = 1; i <= 3; i++)
        {
            await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = $"after {i}" });
        }

        await Eventually.WaitAsync(() => logs.GetSnapshot().Any(r => r.Message.EndsWith("after 3", StringComparison.Ordinal)), "the third call logged");
        logs.GetSnapshot().Where(r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(r => $"{r.Category}: {r.Message}")
            .Should().BeEmpty();
    }
}
