using System.Text.Json.Nodes;

namespace Loop.Jobs.Tests.Specs;

/// <summary>Job specs from the JSON shape and from code; hostile and broken ones are refused with every problem named.</summary>
public sealed class JobSpecValidationTests
{
    [Fact]
    public async Task The_seed_job_spec_shape_is_read_and_written_back()
    {
        var spec = JobSpec.Parse("""
            {"initiators":[{"type":"cron","params":{"schedule":"*/5 * * * * *"}}],
             "tasks":[{"type":"httpget","params":{"get":"https://example.com/api"}},{"type":"jsonparse","params":{"path":["USD"]}},{"type":"multiply","params":{"times":100}}],
             "startAt":null,"endAt":"2030-01-01T00:00:00Z","minConfirmations":2}
            """);
        await using var jobs = await JobsHarness.StartAsync();

        var added = await jobs.Service.AddJobAsync(spec);

        added.Initiators.Should().ContainSingle().Which.Type.Should().Be("cron");
        added.Tasks.Select(t => t.Type).Should().Equal("httpget", "jsonparse", "multiply");
        added.EndAt.Should().Be(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        added.MinConfirmations.Should().Be(2);
        JobSpec.Parse(added.ToJson().ToJsonString()).ToJson().ToJsonString().Should().Be(added.ToJson().ToJsonString());
    }

    [Fact]
    public async Task Every_problem_of_a_job_is_reported_at_once_with_its_path()
    {
        await using var jobs = await JobsHarness.StartAsync();
        var spec = JobSpec.Parse("""
            {"id":"../etc","initiators":[{"type":"cron","params":{"schedule":"*/5 * * *"}},{"type":"runat","params":{"time":"2020-01-01T00:00:00Z"}},{"type":"smoke-signal"}],
             "tasks":[{"type":"nosuchtask"},{"type":"multiply","params":{"times":"lots"}},{"type":"httpget","params":{"get":"file:///etc/passwd"}},{"type":"jsonparse"},{"type":"sleep","params":{}},{"type":"noop","confirmations":-1}],
             "startAt":"2030-01-02T00:00:00Z","endAt":"2030-01-01T00:00:00Z","minConfirmations":-3}
            """);

        var refused = (await FluentActions.Awaiting(() => jobs.Service.AddJobAsync(spec)).Should().ThrowAsync<JobValidationException>()).Which;

        refused.Errors.Select(e => e.Path).Should().BeEquivalentTo(
            "id",
            "initiators[0].params.schedule",
            "initiators[1].params.time",
            "initiators[2].type",
            "tasks[0].type",
            "tasks[1].params.times",
            "tasks[2].params.get",
            "tasks[3].params.path",
            "tasks[4].params.until",
            "tasks[5].confirmations",
            "endAt",
            "minConfirmations");
        refused.Message.Should().Contain("tasks[0].type: unknown task type 'nosuchtask'").And.Contain("initiators[1].params.time: is in the past")
            .And.Contain("endAt: must be after startAt").And.Contain("initiators[2].type: unknown initiator type 'smoke-signal'");
        (await jobs.Service.ListJobsAsync()).Should().BeEmpty("nothing of a refused job is stored");
    }

    [Theory]
    [InlineData("{", "line 1")]
    [InlineData("[]", "$")]
    [InlineData("""{"tasks":{"type":"noop"}}""", "tasks")]
    [InlineData("""{"tasks":[7]}""", "tasks[0]")]
    [InlineData("""{"tasks":[{"type":3}]}""", "tasks[0].type")]
    [InlineData("""{"tasks":[{"type":"noop","params":[1]}]}""", "tasks[0].params")]
    [InlineData("""{"startAt":"soon"}""", "startAt")]
    [InlineData("""{"minConfirmations":1.5}""", "minConfirmations")]
    [InlineData("""{"tasks":[{"type":"noop","confirmations":"x"}]}""", "tasks[0].confirmations")]
    public void Malformed_json_is_a_validation_error_naming_where(string json, string path)
    {
        var parse = () => JobSpec.Parse(json);

        parse.Should().Throw<JobValidationException>().Which.Errors.Should().Contain(e => e.Path.StartsWith(path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_job_naming_a_missing_bridge_is_refused_and_one_naming_a_stored_bridge_is_not()
    {
        await using var jobs = await JobsHarness.StartAsync();
        var spec = new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("Price")] };
        (await FluentActions.Awaiting(() => jobs.Service.AddJobAsync(spec)).Should().ThrowAsync<JobValidationException>())
            .Which.Errors.Should().ContainSingle(e => e.Path == "tasks[0].type" && e.Message.Contains("nor a bridge"));

        await jobs.Service.AddBridgeAsync(new BridgeSpec { Name = "price", Url = new Uri("http://127.0.0.1:9/"), IncomingToken = new string('k', 32) });

        (await jobs.Service.AddJobAsync(spec)).Tasks[0].Type.Should().Be("Price");
    }

    [Fact]
    public async Task Bad_bridges_are_refused_with_every_problem()
    {
        await using var jobs = await JobsHarness.StartAsync();
        var refused = (await FluentActions.Awaiting(() => jobs.Service.AddBridgeAsync(new BridgeSpec
        {
            Name = "../Price",
            Url = new Uri("ftp://127.0.0.1/"),
            IncomingToken = "short",
            Confirmations = -1,
        })).Should().ThrowAsync<JobValidationException>()).Which;
        refused.Errors.Select(e => e.Path).Should().BeEquivalentTo("name", "url", "incomingToken", "confirmations");
        refused.Message.Should().NotContain("short", "a token is never echoed");

        await FluentActions.Awaiting(() => jobs.Service.AddBridgeAsync(new BridgeSpec { Name = "multiply", Url = new Uri("http://127.0.0.1/"), IncomingToken = new string('k', 16) }))
            .Should().ThrowAsync<JobValidationException>().WithMessage("*is a task type*");
        var bridge = new BridgeSpec { Name = "ok", Url = new Uri("http://127.0.0.1/"), IncomingToken = new string('k', 16), OutgoingToken = "secret-out" };
        await jobs.Service.AddBridgeAsync(bridge);
        await FluentActions.Awaiting(() => jobs.Service.AddBridgeAsync(bridge)).Should().ThrowAsync<JobValidationException>().WithMessage("*exists*");
        bridge.ToString().Should().NotContain("secret-out").And.NotContain("kkkk");
    }

    [Theory]
    [InlineData("0 0 12 * * MON-FRI", null)]
    [InlineData("CRON_TZ=Europe/Berlin 0 30 9 * * *", null)]
    [InlineData("0 30 9 * * *", "America/New_York")]
    public async Task Cron_schedules_with_seconds_and_time_zones_are_accepted(string schedule, string? zone)
    {
        await using var jobs = await JobsHarness.StartAsync();
        await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron(schedule, zone)], Tasks = [new TaskSpec("noop")] });
    }

    [Theory]
    [InlineData("* * * * *", "schedule")]
    [InlineData("61 * * * * *", "schedule")]
    [InlineData("CRON_TZ=Mars/Olympus 0 * * * * *", "timeZone")]
    [InlineData("", "schedule")]
    public async Task Bad_cron_schedules_are_refused_naming_the_field(string schedule, string field)
    {
        await using var jobs = await JobsHarness.StartAsync();
        var spec = new JobSpec { Initiators = [new InitiatorSpec("cron", new JsonObject { ["schedule"] = schedule })], Tasks = [new TaskSpec("noop")] };

        (await FluentActions.Awaiting(() => jobs.Service.AddJobAsync(spec)).Should().ThrowAsync<JobValidationException>())
            .Which.Errors.Should().ContainSingle(e => e.Path == $"initiators[0].params.{field}");
    }

    [Fact]
    public async Task A_job_id_is_unique()
    {
        await using var jobs = await JobsHarness.StartAsync();
        await jobs.Service.AddJobAsync(new JobSpec { Id = "price-feed", Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] });

        await FluentActions.Awaiting(() => jobs.Service.AddJobAsync(new JobSpec { Id = "price-feed", Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] }))
            .Should().ThrowAsync<JobValidationException>().WithMessage("*price-feed*exists*");
    }
}
