namespace Loop.Visor.Tests;

public sealed class ConfigTests
{
    [Fact]
    public void Init_writes_every_default_and_the_file_reads_back_to_the_defaults()
    {
        using var temp = new TempHome();
        var text = File.ReadAllText(temp.Home.ConfigPath);

        foreach (var key in new[] { "maxNumberOfFirstConnectionRetries", "maxNumberOfRestartConnectionRetries", "maxNumberOfRestarts", "restartsDelaySeconds", "stopDelaySeconds", "stopSignalTimeoutSeconds", "[upgradeFolders]", "[autoInstall]" })
        {
            text.Should().Contain(key);
        }

        var config = VisorConfigFile.Load(temp.Home.ConfigPath);
        config.Should().BeEquivalentTo(new VisorConfig { UpgradeFolders = new Dictionary<string, string> { ["vX.X.X"] = "vX.X.X" } });
        config.MaxNumberOfFirstConnectionRetries.Should().Be(175_000);
        config.StopSignalTimeoutSeconds.Should().Be(15);
        File.Exists(Path.Combine(temp.Root, "genesis", "run-config.toml")).Should().BeTrue();
        File.Exists(Path.Combine(temp.Root, "vX.X.X", "run-config.toml")).Should().BeTrue();
    }

    [Fact]
    public void Init_refuses_an_existing_folder()
    {
        using var temp = new TempHome();
        var again = () => VisorHome.Init(temp.Root);
        again.Should().Throw<VisorHomeException>().WithMessage("*already exists*");
    }

    [Fact]
    public void Missing_keys_take_their_defaults()
    {
        var config = VisorConfigFile.Parse("config.toml", "maxNumberOfRestarts = 7\n");
        config.MaxNumberOfRestarts.Should().Be(7);
        config.StopSignalTimeoutSeconds.Should().Be(15, "a missing key is the default, not zero");
        config.RestartsDelaySeconds.Should().Be(5);
    }

    [Theory]
    [InlineData("maxNumberOfRestarts = 3\nstopSignalTimeoutSecs = 4\n", 2, "stopSignalTimeoutSecs", "unknown key")]
    [InlineData("maxNumberOfRestarts = \"three\"\n", 1, "maxNumberOfRestarts", "expected an integer")]
    [InlineData("\n\nrestartsDelaySeconds = -1\n", 3, "restartsDelaySeconds", "out of range")]
    [InlineData("[autoInstall]\nenabled = \"yes\"\n", 2, "autoInstall.enabled", "expected true or false")]
    [InlineData("[upgradeFolders]\n\"../etc\" = \"x\"\n", 2, "upgradeFolders.../etc", "\"..\"")]
    [InlineData("[autoInstall]\nenabled = true\nassetUrlTemplate = \"http://x/{tag}\"\n", 2, "autoInstall.checksum", "needs a checksum")]
    [InlineData("[autoInstall]\nenabled = true\nchecksum = \"sha256:00\"\n", 2, "autoInstall.releaseApiUrl", "needs releaseApiUrl or assetUrlTemplate")]
    [InlineData("maxNumberOfRestarts = \n", 1, null, "expecting a value")]
    public void Bad_files_name_the_file_line_and_key(string text, int line, string? key, string problem)
    {
        var parse = () => VisorConfigFile.Parse("/home/v/config.toml", text);
        var error = parse.Should().Throw<VisorConfigException>().Which;
        error.File.Should().Be("/home/v/config.toml");
        error.Line.Should().Be(line);
        error.Key.Should().Be(key);
        error.Message.Should().Contain(problem).And.StartWith($"/home/v/config.toml:{line}:");
    }

    [Fact]
    public void Quoted_tags_with_dots_map_to_folders()
    {
        var config = VisorConfigFile.Parse("c.toml", "[upgradeFolders]\n\"v1.2.3\" = \"releases/v1.2.3\"\n");
        config.UpgradeFolders.Should().Equal(new Dictionary<string, string> { ["v1.2.3"] = "releases/v1.2.3" });
    }

    [Fact]
    public void Run_config_resolves_relative_binaries_against_the_version_folder()
    {
        using var temp = new TempHome();
        var folder = Path.Combine(temp.Root, "v2");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "run-config.toml"), """
            name = "v2"
            [vega.binary]
            path = "bin/vega"
            args = ["node", "--home=/x"]
            env = { RUST_LOG = "info" }
            [vega.rpc]
            socketPath = "/tmp/vega.sock"
            httpPath = "/rpc"
            [data_node.binary]
            path = "/opt/data-node"
            args = []
            """);

        var config = RunConfigFile.Load(folder);

        config.Name.Should().Be("v2");
        config.Processes.Select(p => p.Name).Should().Equal("vega", "data_node");
        config.Processes[0].Path.Should().Be(Path.Combine(folder, "bin", "vega"));
        config.Processes[0].Args.Should().Equal("node", "--home=/x");
        config.Processes[0].Environment.Should().Contain("RUST_LOG", "info");
        config.Processes[1].Path.Should().Be("/opt/data-node");
        config.UpgradeRpc.Should().Be(new UpgradeRpcEndpoint("/tmp/vega.sock", "/rpc"));
    }

    [Fact]
    public void Run_config_errors_name_the_key()
    {
        using var temp = new TempHome();
        var folder = Path.Combine(temp.Root, "bad");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "run-config.toml"), "name = \"bad\"\n[vega.binary]\npth = \"x\"\n");
        var load = () => RunConfigFile.Load(folder);
        load.Should().Throw<VisorConfigException>().Which.Message.Should().Contain("vega.binary.path");
    }
}
