namespace Loop.Visor.Tests;

public sealed class ArgsAndPolicyTests
{
    [Fact]
    public void Flags_match_whole_names_never_substrings()
    {
        string[] args = ["node", "--homeDir", "/a", "--snapshot.load-from-block-height=10", "-v"];
        Args.Exists(args, "home").Should().BeFalse();
        Args.Exists(args, "--homeDir").Should().BeTrue();
        Args.Exists(args, "snapshot.load-from-block-height").Should().BeTrue();
        Args.Exists(args, "v").Should().BeTrue("short names work and never throw");
        Args.GetFlagWithArg(args, "snapshot.load-from-block-height").Should().Equal("--snapshot.load-from-block-height", "10");
        Args.GetFlagWithArg(args, "homeDir").Should().Equal("--homeDir", "/a");
        Args.GetFlagWithArg(args, "missing").Should().BeNull();
    }

    [Fact]
    public void Set_adds_once_and_ForceSet_replaces_in_place()
    {
        var args = new List<string> { "node", "--height=1" };
        Args.Set(args, "home", "/x").Should().BeTrue();
        Args.Set(args, "home", "/y").Should().BeFalse();
        Args.ForceSet(args, "height", "42");
        Args.ForceSet(args, "home", "/z");
        args.Should().Equal("node", "--height=42", "--home", "/z");
    }

    [Fact]
    public void Restarts_back_off_up_to_the_cap_stop_at_the_maximum_and_reset_after_a_stable_run()
    {
        var config = new VisorConfig { MaxNumberOfRestarts = 4, RestartsDelaySeconds = 2, RestartBackoffMultiplier = 3, MaxRestartDelaySeconds = 10, RestartCounterResetSeconds = 60 };
        var policy = new RestartPolicy();
        var shortRun = TimeSpan.FromSeconds(1);

        policy.OnCrash(config, shortRun).Should().Be(TimeSpan.FromSeconds(2));
        policy.OnCrash(config, shortRun).Should().Be(TimeSpan.FromSeconds(6));
        policy.OnCrash(config, shortRun).Should().Be(TimeSpan.FromSeconds(10), "capped");
        policy.OnCrash(config, shortRun).Should().Be(TimeSpan.FromSeconds(10));
        policy.OnCrash(config, shortRun).Should().BeNull("four restarts are the maximum");

        policy.OnCrash(config, TimeSpan.FromMinutes(2)).Should().Be(TimeSpan.FromSeconds(2), "a run longer than the reset period starts the count again");
    }
}
