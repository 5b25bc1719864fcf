namespace Loop.Visor.Tests;

public sealed class HomeTests
{
    [Fact]
    public void Current_is_linked_to_genesis_when_missing()
    {
        using var temp = new TempHome();
        temp.Home.EnsureCurrent().Should().Be(temp.Home.GenesisFolder);
        new FileInfo(temp.Home.CurrentLink).LinkTarget.Should().NotBeNull();
    }

    [Fact]
    public void Switching_replaces_the_link_in_one_step_and_remembers_the_previous_version()
    {
        using var temp = new TempHome();
        temp.Home.EnsureCurrent();
        var v2 = temp.Version("v2", "exec sleep 100");

        temp.Home.SwitchCurrent(v2);

        temp.Home.CurrentFolder().Should().Be(v2);
        temp.Home.PreviousFolder().Should().Be(temp.Home.GenesisFolder);
        Directory.GetFiles(temp.Root, "*.tmp").Should().BeEmpty("the temporary link was renamed over current");
        File.Exists(Path.Combine(temp.Home.CurrentLink, "run-config.toml")).Should().BeTrue();
    }

    [Fact]
    public void Switching_to_a_folder_without_a_run_config_is_refused()
    {
        using var temp = new TempHome();
        temp.Home.EnsureCurrent();
        var empty = Directory.CreateDirectory(Path.Combine(temp.Root, "empty")).FullName;
        var act = () => temp.Home.SwitchCurrent(empty);
        act.Should().Throw<VisorHomeException>();
        temp.Home.CurrentFolder().Should().Be(temp.Home.GenesisFolder);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("..")]
    [InlineData("v1/../../x")]
    [InlineData("/etc")]
    [InlineData("v1\\x")]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("v1.0\n")]
    public void Tags_that_are_not_plain_version_names_never_reach_the_file_system(string tag)
    {
        using var temp = new TempHome();
        var resolve = () => temp.Home.VersionFolder(tag, new VisorConfig());
        resolve.Should().Throw<InvalidReleaseTagException>();
    }

    [Theory]
    [InlineData("v1.2.3")]
    [InlineData("v0.79.0-rc.1")]
    [InlineData("1.0.0+build.5")]
    public void Plain_tags_resolve_under_home_or_by_mapping(string tag)
    {
        using var temp = new TempHome();
        temp.Home.VersionFolder(tag, new VisorConfig()).Should().Be(Path.Combine(temp.Root, tag));
        var mapped = new VisorConfig { UpgradeFolders = new Dictionary<string, string> { [tag] = "releases/x" } };
        temp.Home.VersionFolder(tag, mapped).Should().Be(Path.Combine(temp.Root, "releases", "x"));
    }
}
