namespace Loop.Plugins.Tests;

public sealed class EnvironmentTests
{
    [Fact]
    public void The_env_config_round_trips_through_the_upstream_variable_names()
    {
        var config = new LoopEnvConfig
        {
            PrometheusPort = 10_123,
            Tracing = new LoopTracingConfig
            {
                Enabled = true,
                CollectorTarget = "collector.local:4317",
                SamplingRatio = 0.00001,
                TlsCertPath = "/certs/ca.pem",
                Attributes = new Dictionary<string, string> { ["env"] = "prod", ["region"] = "eu" },
            },
        };

        var vars = LoopEnvironment.ToVariables(config);

        vars.Should().Contain(new KeyValuePair<string, string>("CL_PROMETHEUS_PORT", "10123"));
        vars.Should().Contain(new KeyValuePair<string, string>("CL_TRACING_ENABLED", "true"));
        vars.Should().Contain(new KeyValuePair<string, string>("CL_TRACING_SAMPLING_RATIO", "0.00001"), "no exponent, as Go writes it");
        vars.Should().Contain(new KeyValuePair<string, string>("CL_TRACING_ATTRIBUTE_region", "eu"));
        LoopEnvironment.Parse(vars.ToDictionary()).Should().BeEquivalentTo(config);
    }

    [Theory]
    [InlineData(null, "CL_PROMETHEUS_PORT is not set")]
    [InlineData("abc", "CL_PROMETHEUS_PORT \"abc\" is not a port number")]
    [InlineData("70000", "is not a port number")]
    public void A_missing_or_bad_port_is_fatal_with_the_variable_named(string? port, string message)
    {
        var env = new Dictionary<string, string>();
        if (port is not null)
        {
            env["CL_PROMETHEUS_PORT"] = port;
        }

        var parse = () => LoopEnvironment.Parse(env);
        parse.Should().Throw<LoopEnvironmentException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void Tracing_is_read_only_when_enabled_and_a_bad_ratio_samples_nothing()
    {
        LoopEnvironment.Parse(new Dictionary<string, string> { ["CL_PROMETHEUS_PORT"] = "1", ["CL_TRACING_ENABLED"] = "F", ["CL_TRACING_COLLECTOR_TARGET"] = "::bad" })
            .Tracing.Should().Be(LoopTracingConfig.Disabled);
        LoopEnvironment.Parse(new Dictionary<string, string> { ["CL_PROMETHEUS_PORT"] = "1", ["CL_TRACING_ENABLED"] = "1", ["CL_TRACING_SAMPLING_RATIO"] = "lots" })
            .Tracing.SamplingRatio.Should().Be(0);
        var bad = () => LoopEnvironment.Parse(new Dictionary<string, string> { ["CL_PROMETHEUS_PORT"] = "1", ["CL_TRACING_ENABLED"] = "yes" });
        bad.Should().Throw<LoopEnvironmentException>().WithMessage("CL_TRACING_ENABLED*");
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(100, "100ms")]
    [InlineData(1500, "1.5s")]
    [InlineData(90_500, "1m30.5s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(0.25, "250µs")]
    public void Durations_format_as_go_does(double milliseconds, string go)
    {
        GoDuration.Format(TimeSpan.FromMilliseconds(milliseconds)).Should().Be(go);
        GoDuration.Parse(go).Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("-2s", -2_000)]
    [InlineData("300us", 0.3)]
    [InlineData("0", 0)]
    public void Go_duration_forms_parse(string go, double milliseconds) =>
        GoDuration.Parse(go).Should().Be(TimeSpan.FromMilliseconds(milliseconds));

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("5 days")]
    [InlineData("1y")]
    public void Bad_durations_are_refused(string text)
    {
        var parse = () => GoDuration.Parse(text);
        parse.Should().Throw<FormatException>();
    }

    [Fact]
    public void The_rpc_timeout_floor_raises_zero_and_short_timeouts()
    {
        var floor = RpcTimeoutFloor.FromEnvironment(new Dictionary<string, string>());
        floor.Floor.Should().Be(TimeSpan.FromMilliseconds(100));
        floor.Apply(TimeSpan.Zero).Should().Be(TimeSpan.FromMilliseconds(100));
        floor.Apply(TimeSpan.FromSeconds(2)).Should().Be(TimeSpan.FromSeconds(2));
        RpcTimeoutFloor.FromEnvironment(new Dictionary<string, string> { ["CL_MIN_OCR2_MAX_DURATION_QUERY"] = "250ms" }).Apply(TimeSpan.FromMilliseconds(10))
            .Should().Be(TimeSpan.FromMilliseconds(250));
        var bad = () => RpcTimeoutFloor.FromEnvironment(new Dictionary<string, string> { ["CL_MIN_OCR2_MAX_DURATION_QUERY"] = "soon" });
        bad.Should().Throw<LoopEnvironmentException>().WithMessage("CL_MIN_OCR2_MAX_DURATION_QUERY*");
    }
}
