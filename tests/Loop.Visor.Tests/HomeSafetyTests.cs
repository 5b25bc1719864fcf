namespace Loop.Visor.Tests;

/// <summary>Names and paths the home must never accept, and a home whose current link is gone or wrong.</summary>
public sealed class HomeSafetyTests : IDisposable
{
    private readonly TempHome _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("current")]
    [InlineData("previous")]
    [InlineData("genesis")]
    [InlineData("Current")]
    [InlineData("data")]
    [InlineData("config.toml")]
    [InlineData("visor-state.json")]
    public void Names_the_home_uses_for_itself_are_refused_as_tags(string tag)
    {
        ReleaseTag.Validate(tag).Should().Contain("a name the home folder uses for itself");
        var resolve = () => _temp.Home.VersionFolder(tag, new VisorConfig());
        resolve.Should().Throw<InvalidReleaseTagException>();
    }

    [Fact]
    public async Task An_upgrade_to_tag_current_is_refused_and_current_stays_a_link_to_genesis()
    {
        using var h = new VisorHarness();
        h.Temp.Version("genesis", "exec sleep 600");
        var visor = await h.StartAsync();

        await h.WriteUpgradeInfoAsync("current", 5);
        await h.AdvanceUntilAsync(() => h.Messages(306).Any(), "the refusal");

        h.Messages(306).Single().Should().Contain("\"current\" is a name the home folder uses for itself");
        h.Temp.Home.CurrentFolder().Should().Be(h.Temp.Home.GenesisFolder);
        h.Started.Should().Equal("genesis");
        (await h.StopAsync()).Should().Be(VisorExitCodes.Stopped);

        // And the home still runs.
        await h.StartAsync();
        h.Started.Should().Equal("genesis", "genesis");
    }

    [Fact]
    public void Switching_current_to_itself_previous_or_a_folder_outside_the_home_is_refused()
    {
        _temp.Home.EnsureCurrent();
        var v2 = _temp.Version("v2", "exec sleep 1");
        _temp.Home.SwitchCurrent(v2);
        var outside = Path.Combine(_temp.Parent, "elsewhere");
        RunConfigFile.Write(outside, new RunConfig("x", [new ProcessSpec("vega", "/bin/true", [])]));

        foreach (var target in new[] { _temp.Home.CurrentLink, _temp.Home.PreviousLink, outside, _temp.Root })
        {
            var act = () => _temp.Home.SwitchCurrent(target);
            act.Should().Throw<VisorHomeException>(target);
        }

        _temp.Home.CurrentFolder().Should().Be(v2);

        // A folder mapped in [upgradeFolders] is a version folder even outside the home.
        var mapped = new VisorConfig { UpgradeFolders = new Dictionary<string, string> { ["v9"] = outside } };
        _temp.Home.SwitchCurrent(outside, mapped);
        _temp.Home.CurrentFolder().Should().Be(outside);
    }

    [Fact]
    public void A_missing_current_on_a_home_upgraded_before_is_refused_naming_the_last_version()
    {
        _temp.Home.EnsureCurrent();
        _temp.Home.SwitchCurrent(_temp.Version("v2", "exec sleep 1"));
        VisorStateFile.Update(_temp.Home, s => s with { CurrentVersion = "v2" });
        File.Delete(_temp.Home.CurrentLink);

        var act = () => _temp.Home.EnsureCurrent();

        act.Should().Throw<VisorHomeException>().Which.Message.Should().Contain("the last current version was v2").And.Contain("--relink-genesis");
        File.Exists(_temp.Home.CurrentLink).Should().BeFalse("nothing was linked");
        _temp.Home.EnsureCurrent(relinkGenesis: true).Should().Be(_temp.Home.GenesisFolder);
    }

    [Fact]
    public void A_missing_current_with_only_a_previous_link_is_refused_too()
    {
        _temp.Home.EnsureCurrent();
        _temp.Home.SwitchCurrent(_temp.Version("v2", "exec sleep 1"));
        File.Delete(_temp.Home.CurrentLink);

        var act = () => _temp.Home.EnsureCurrent();

        act.Should().Throw<VisorHomeException>().Which.Message.Should().Contain("previous points to " + _temp.Home.GenesisFolder);
    }

    [Fact]
    public void A_current_that_is_a_plain_folder_is_a_clear_error()
    {
        Directory.CreateDirectory(_temp.Home.CurrentLink);

        var act = () => _temp.Home.EnsureCurrent();

        act.Should().Throw<VisorHomeException>().Which.Message.Should().Contain("is a plain folder, not a link").And.Contain("mv ");
    }

    [Theory]
    [InlineData("\"/rpc\"", "is not an http:// or https:// URL with a host")]
    [InlineData("\"ftp://127.0.0.1/rpc\"", "is not an http:// or https:// URL with a host")]
    [InlineData("\"http:///rpc\"", "is not an http:// or https:// URL with a host")]
    public void A_status_endpoint_without_a_socket_must_be_an_http_url_named_by_file_line_and_key(string httpPath, string problem)
    {
        var folder = Path.Combine(_temp.Root, "v5");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, RunConfigFile.FileName), $"name = \"v5\"\n[vega.binary]\npath = \"/bin/true\"\n[vega.rpc]\nhttpPath = {httpPath}\n");

        var load = () => RunConfigFile.Load(folder);

        load.Should().Throw<VisorConfigException>().Which.Message.Should()
            .StartWith($"{Path.Combine(folder, RunConfigFile.FileName)}:5: vega.rpc.httpPath: ").And.Contain(problem);
    }

    [Fact]
    public void Release_urls_that_are_not_http_are_rejected_when_the_config_is_read()
    {
        var parse = () => VisorConfigFile.Parse("config.toml", "[autoInstall]\nenabled = true\nreleaseApiUrl = \"file:///etc\"\nassetName = \"x\"\nchecksum = \"sha256:" + new string('0', 64) + "\"\n");
        parse.Should().Throw<VisorConfigException>().Which.Message.Should().StartWith("config.toml:3: autoInstall.releaseApiUrl: ");
    }
}
