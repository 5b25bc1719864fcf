using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Plugins.Tests;

public sealed class RegistryTests
{
    private static PortPool Pool(TimeProvider? time = null)
    {
        // A block of our own per test, so parallel tests never share ports.
        var first = 20_000 + Random.Shared.Next(0, 50) * 100; // 20000-24999: below the ephemeral range
        return new PortPool(first, first + 99, time);
    }

    [Fact]
    public void Register_is_not_idempotent_and_ports_are_consecutive()
    {
        var registry = new LoopRegistry(Pool());
        var foo = registry.Register("foo");
        foo.EnvConfig.PrometheusPort.Should().BeGreaterThan(0);

        var again = () => registry.Register("foo");
        again.Should().Throw<PluginAlreadyRegisteredException>().WithMessage("plugin \"foo\" is already registered");

        registry.Register("bar").EnvConfig.PrometheusPort.Should().Be(foo.EnvConfig.PrometheusPort + 1);
        registry.List().Select(l => l.Name).Should().Equal("bar", "foo");
        registry.TryGet("foo", out var found).Should().BeTrue();
        found.Should().Be(foo);
        registry.TryGet("baz", out _).Should().BeFalse();
    }

    [Fact]
    public void Registrations_carry_the_hosts_tracing_settings()
    {
        var tracing = new LoopTracingConfig { Enabled = true, CollectorTarget = "otel:4317", SamplingRatio = 0.25, Attributes = new Dictionary<string, string> { ["env"] = "test" } };
        new LoopRegistry(Pool(), tracing).Register("p").EnvConfig.Tracing.Should().Be(tracing);
    }

    [Fact]
    public void A_registry_made_from_the_hosts_options_takes_its_port_range_and_tracing()
    {
        var first = 20_000 + Random.Shared.Next(0, 50) * 100;
        var tracing = new LoopTracingConfig { Enabled = true, CollectorTarget = "otel:4317" };
        var registry = new LoopRegistry(new LoopPluginsOptions { FirstPort = first, LastPort = first + 1, Tracing = tracing });

        var one = registry.Register("one");
        one.EnvConfig.PrometheusPort.Should().BeInRange(first, first + 1);
        one.EnvConfig.Tracing.Should().Be(tracing);

        var outside = () => new LoopRegistry(new LoopPluginsOptions { FirstPort = 80, LastPort = 90 });
        outside.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task Ports_are_unique_under_concurrent_registration()
    {
        var registry = new LoopRegistry(Pool());
        var loops = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => registry.Register($"p{i}"))));
        loops.Select(l => l.EnvConfig.PrometheusPort).Should().OnlyHaveUniqueItems();
        registry.List().Should().HaveCount(64);
    }

    [Fact]
    public void A_busy_port_is_skipped()
    {
        var pool = Pool();
        using var squatter = new TcpListener(IPAddress.Loopback, pool.FirstPort);
        squatter.Start();
        pool.Take().Should().Be(pool.FirstPort + 1);
    }

    [Fact]
    public void A_returned_port_is_not_handed_out_again_at_once()
    {
        var time = new FakeTimeProvider();
        var first = 20_000 + Random.Shared.Next(0, 50) * 100; // 20000-24999: below the ephemeral range
        var pool = new PortPool(first, first + 1, time);
        var registry = new LoopRegistry(pool);
        var a = registry.Register("a").EnvConfig.PrometheusPort;
        registry.Register("b");

        registry.Unregister("a").Should().BeTrue();
        registry.Unregister("a").Should().BeFalse();
        var tooSoon = () => registry.Register("c");
        tooSoon.Should().Throw<InvalidOperationException>().WithMessage("failed to get free port*");

        time.Advance(pool.Quarantine);
        registry.Register("d").EnvConfig.PrometheusPort.Should().Be(a);
    }
}
