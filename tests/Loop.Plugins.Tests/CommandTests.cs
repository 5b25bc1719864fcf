namespace Loop.Plugins.Tests;

public sealed class CommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loop-plugins-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static LoopRegistry Registry()
    {
        var first = 25_000 + Random.Shared.Next(0, 15) * 100; // 25000-26499 (26500-26599: OptionsValidationTests, InstrumentationTests)
        return new LoopRegistry(new PortPool(first, first + 99));
    }

    [Fact]
    public async Task Each_launch_gets_exactly_the_configured_registry_and_handshake_variables()
    {
        Environment.SetEnvironmentVariable("LOOP_TEST_HOST_SECRET", "must-not-leak");
        var registry = Registry();
        var factory = LoopCommands.RegisterLoop(
            registry,
            new CmdConfig("median", "/usr/bin/env", [new("FOO", "1"), new("PLUGIN_MIN_PORT", "1")]),
            [new("PLUGIN_MIN_PORT", "10000"), new("PLUGIN_PROTOCOL_VERSIONS", "1")]);

        var first = factory();
        var second = factory();
        second.Should().NotBeSameAs(first, "every launch builds a fresh start");
        first.RedirectStandardOutput = true;
        using var child = System.Diagnostics.Process.Start(first)!;
        var output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();

        var seen = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var port = registry.List().Single().EnvConfig.PrometheusPort;
        seen.Should().BeEquivalentTo(["FOO=1", $"CL_PROMETHEUS_PORT={port}", "CL_TRACING_ENABLED=false", "PLUGIN_MIN_PORT=10000", "PLUGIN_PROTOCOL_VERSIONS=1"],
            "the host environment is not inherited and later duplicates win");
    }

    [Fact]
    public void Registering_twice_fails_with_a_named_error()
    {
        var registry = Registry();
        LoopCommands.RegisterLoop(registry, new CmdConfig("solana", "/bin/true"));
        var again = () => LoopCommands.RegisterLoop(registry, new CmdConfig("solana", "/bin/true"));
        again.Should().Throw<PluginRegistrationException>().WithMessage("failed to register solana LOOP plugin: plugin \"solana\" is already registered");
    }

    [Fact]
    public void A_kind_is_enabled_by_its_CMD_variable_with_an_optional_env_file()
    {
        var envFile = Path.Combine(_dir, "median.env");
        File.WriteAllText(envFile, "# settings\nexport A=1\nB = \"two words\"\n\nC='x=y'\n");
        var env = new Dictionary<string, string> { ["CL_MEDIAN_CMD"] = "/opt/median", ["CL_MEDIAN_ENV"] = envFile };

        var config = LoopCommands.FromEnvironment("median", env)!;

        config.Cmd.Should().Be("/opt/median");
        config.Env!.Select(e => $"{e.Key}={e.Value}").Should().Equal("A=1", "B=two words", "C=x=y");
        LoopCommands.FromEnvironment("solana", env).Should().BeNull("unset means the in-process runtime");
    }

    [Fact]
    public void Env_files_report_bad_lines_and_missing_files()
    {
        var bad = Path.Combine(_dir, "bad.env");
        File.WriteAllText(bad, "A=1\nnot a pair\n");
        var read = () => EnvFile.Read(bad);
        read.Should().Throw<FormatException>().WithMessage($"{bad}:2: expected KEY=VALUE");
        var missing = () => LoopCommands.FromEnvironment("x", new Dictionary<string, string> { ["CL_X_CMD"] = "/x", ["CL_X_ENV"] = Path.Combine(_dir, "none.env") });
        missing.Should().Throw<FileNotFoundException>();
    }
}
