using System.Diagnostics;
using Loop.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Plugins.Tests;

/// <summary>
/// Plugins whose handshake names an address the host must not or cannot dial: refused with a typed error, and the
/// process never outlives the failed launch, however often supervision tries.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HandshakeFaultTests : IDisposable
{
    private static readonly HandshakeConfig Handshake = new("LOOP_FAKE_PLUGIN", "fake", [1]);
    private readonly MarkedFolder _scratch = new("loop-plugin-fault");

    private string Folder => _scratch.Path;

    public void Dispose() => _scratch.Dispose();

    /// <summary>A fake plugin: prints <paramref name="handshake"/> and then runs until killed.</summary>
    private ProcessStartInfo FakePlugin(string handshake) => new(_scratch.Script("plugin.sh", $"echo '{handshake}'\nexec sleep 600"));

    [Theory]
    [InlineData("not an address", "is not an IP address and port")]
    [InlineData("192.0.2.10:1234", "is not a loopback address")]
    [InlineData("0.0.0.0:1234", "is not a loopback address")]
    [InlineData("[::]:1234", "is not a loopback address")]
    [InlineData("example.com:1234", "is not an IP address and port")]
    [InlineData("localhost:1234", "is not an IP address and port")]
    [InlineData("127.0.0.1:0", "is not an IP address and port")]
    [InlineData("127.0.0.1", "is not an IP address and port")]
    public void A_tcp_address_that_is_not_loopback_is_refused_naming_it(string address, string problem)
    {
        var parse = () => HandshakeLine.Parse($"1|1|tcp|{address}|grpc|");

        parse.Should().Throw<PluginHandshakeException>().Which.Message.Should().Contain(address).And.Contain(problem);
    }

    [Theory]
    [InlineData("127.0.0.1:10000")]
    [InlineData("127.3.4.5:10000")]
    [InlineData("[::1]:10000")]
    public void Loopback_addresses_are_accepted(string address) =>
        HandshakeLine.Parse($"1|1|tcp|{address}|grpc|").Address.Should().Be(address);

    [Theory]
    [InlineData("1|1|tcp|not an address|grpc|")]
    [InlineData("1|1|tcp|192.0.2.10:1234|grpc|")]
    [InlineData("1|1|unix||grpc|")]
    public async Task A_failed_handshake_leaves_no_process_behind(string line)
    {
        var start = () => PluginClient.StartAsync(FakePlugin(line), Handshake);

        await start.Should().ThrowAsync<PluginHandshakeException>();
        await Eventually.WaitAsync(() => ProcessLeaks.Find(Folder).Count == 0, "the fake plugin to be killed");
    }

    [Fact]
    public async Task Supervision_backs_off_bad_launches_and_none_of_their_processes_survive()
    {
        var time = new FakeTimeProvider();
        var logs = new FakeLogCollector();
        var command = FakePlugin("1|1|tcp|not an address|grpc|");
        await using (var service = new PluginService("bad", () => new ProcessStartInfo(command.FileName), Handshake, logger: new FakeLogger<PluginService>(logs), timeProvider: time))
        {
            await service.StartAsync();
            int Failures() => logs.GetSnapshot().Count(r => r.Id.Id == 421);

            // Six failed launches, with the backoff between them on the clock: with a leak, a process would be left
            // at every try.
            for (var launch = 1; launch <= 6; launch++)
            {
                await Eventually.WaitAsync(
                    () =>
                    {
                        time.Advance(TimeSpan.FromMilliseconds(100));
                        return Failures() >= launch;
                    },
                    $"failed launch {launch}");
                await Eventually.WaitAsync(() => ProcessLeaks.Find(Folder).Count <= 1, "at most the launch in progress alive");
            }

            logs.GetSnapshot().Where(r => r.Id.Id == 421).Should().AllSatisfy(r => r.Message.Should().Contain("not an IP address and port"));

            service.CheckReady().Should().BeOfType<PluginUnavailableException>().Which.Message.Should().Contain("not an IP address and port");
        }

        await Eventually.WaitAsync(() => ProcessLeaks.Find(Folder).Count == 0, "no fake plugin after the service stopped");
    }

    [Fact]
    public async Task A_plugin_that_exits_before_its_handshake_fails_with_its_last_stderr_lines()
    {
        var path = _scratch.Script("plugin.sh", "echo 'loading /etc/median.toml' >&2\necho 'config file /etc/median.toml: permission denied' >&2\nexit 1");
        var logs = new FakeLogCollector();
        var time = new FakeTimeProvider();

        var start = () => PluginClient.StartAsync(new ProcessStartInfo(path), Handshake);
        (await start.Should().ThrowAsync<PluginHandshakeException>()).Which.Message.Should()
            .Contain("exited before we could connect (exit code 1)").And.Contain("config file /etc/median.toml: permission denied");

        await using var service = new PluginService("median", () => new ProcessStartInfo(path), Handshake, logger: new FakeLogger<PluginService>(logs), timeProvider: time);
        await service.StartAsync();
        await Eventually.WaitAsync(() => logs.GetSnapshot().Any(r => r.Id.Id == 421), "the launch failure warning");
        var warning = logs.GetSnapshot().First(r => r.Id.Id == 421);
        warning.Level.Should().Be(Microsoft.Extensions.Logging.LogLevel.Warning);
        warning.Message.Should().Contain("permission denied");
    }

    [Theory]
    [InlineData("")]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("a..b")]
    [InlineData(".hidden")]
    [InlineData("name with space")]
    [InlineData("x\u0000")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void Bad_plugin_names_are_refused_at_registration(string name)
    {
        var register = () => new LoopRegistry().Register(name);
        register.Should().Throw<InvalidPluginNameException>();

        var add = () => Microsoft.Extensions.DependencyInjection.LoopPluginsServiceCollectionExtensions.AddLoopPlugin(new Microsoft.Extensions.DependencyInjection.ServiceCollection(), new CmdConfig(name, "/bin/true"), Handshake);
        add.Should().Throw<InvalidPluginNameException>().Which.Message.Should().Contain("plugin name");
    }

    [Theory]
    [InlineData("median")]
    [InlineData("ocr2.median-v2_1")]
    [InlineData("A1")]
    public void Plain_plugin_names_are_registered(string name) => new LoopRegistry().Register(name).Name.Should().Be(name);

    [Fact]
    public async Task A_plugins_hclog_keys_reach_the_host_log_as_structured_state()
    {
        var path = _scratch.Script(
            "plugin.sh",
            """
            echo '{"@level":"ERROR","@message":"cannot reach the chain","@module":"median","error":"dial tcp 127.0.0.1:8545: connection refused","attempt":3}' >&2
            exit 2
            """);
        var logs = new FakeLogCollector();

        var start = () => PluginClient.StartAsync(new ProcessStartInfo(path), Handshake, logger: new FakeLogger(logs));
        await start.Should().ThrowAsync<PluginHandshakeException>();

        var record = logs.GetSnapshot().Single(r => r.Id.Id == 410);
        record.Level.Should().Be(Microsoft.Extensions.Logging.LogLevel.Error);
        record.Message.Should().Be("plugin.plugin.sh: cannot reach the chain error=\"dial tcp 127.0.0.1:8545: connection refused\" attempt=3");
        record.StructuredState.Should().Contain(new KeyValuePair<string, string?>("error", "dial tcp 127.0.0.1:8545: connection refused"))
            .And.Contain(new KeyValuePair<string, string?>("attempt", "3"))
            .And.Contain(new KeyValuePair<string, string?>("Plugin", "plugin.sh"));
    }

    [Fact]
    public async Task A_plugins_own_lines_log_under_its_own_category_and_every_line_names_it_by_its_registered_name()
    {
        var path = _scratch.Script("median-plugin-v2", """echo '{"@level":"info","@message":"loading config"}' >&2; exit 1""");
        var logs = new FakeLogCollector();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        var time = new FakeTimeProvider();

        await using (var service = new PluginService(
            "median", () => new ProcessStartInfo(path), Handshake, logger: loggers.CreateLogger<PluginService>(), timeProvider: time, loggerFactory: loggers))
        {
            await service.StartAsync();
            await Eventually.WaitAsync(() => logs.GetSnapshot().Any(r => r.Id.Id == 421), "the failed launch");
        }

        var own = logs.GetSnapshot().Single(r => r.Id.Id == 410);
        own.Category.Should().Be("Loop.Plugins.Plugin.median");
        own.Message.Should().Be("plugin.median: loading config");
        logs.GetSnapshot().Where(r => r.Id.Id is 410 or 421).Should().AllSatisfy(r => r.Message.Should().Contain("median").And.NotContain("median-plugin-v2"));
    }

    [Theory]
    [InlineData(LogLevel.Debug, "debug")]
    [InlineData(LogLevel.Information, "info")]
    [InlineData(LogLevel.Error, "error")]
    public async Task The_host_tells_each_plugin_the_level_it_logs_that_plugin_at(LogLevel hostLevel, string expected)
    {
        var path = _scratch.Script("plugin.sh", """printf '{"@level":"error","@message":"level=%s"}\n' "$LOOP_PLUGIN_LOG_LEVEL" >&2; exit 1""");
        var logs = new FakeLogCollector();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(hostLevel).AddProvider(new FakeLoggerProvider(logs)));

        var start = () => PluginClient.StartAsync(new ProcessStartInfo(path), Handshake, logger: loggers.CreateLogger("plugin"));
        await start.Should().ThrowAsync<PluginHandshakeException>();

        logs.GetSnapshot().Should().Contain(r => r.Message == $"plugin.plugin.sh: level={expected}");
    }

    [Theory]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("DEBUG", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("off", LogLevel.None)]
    [InlineData(null, LogLevel.Information)]
    [InlineData("nonsense", LogLevel.Information)]
    public void A_plugin_reads_the_level_the_host_asks_for(string? value, LogLevel expected) => PluginLogLevel.Parse(value).Should().Be(expected);
}
