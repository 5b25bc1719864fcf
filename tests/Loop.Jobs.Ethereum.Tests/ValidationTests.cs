using System.Text.Json.Nodes;
using Loop.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Loop.Jobs.Ethereum.Tests;

/// <summary>Bad specs and bad options are refused, every problem at once, each naming where it is.</summary>
public sealed class ValidationTests
{
    [Fact]
    public async Task Log_initiators_with_bad_parameters_are_refused_naming_each_field()
    {
        await using var host = await ChainHost.StartAsync(new Uri($"ws://127.0.0.1:{FreePort.Next()}"));
        var job = new JobSpec
        {
            Id = "a-runlog-job-whose-id-is-longer-than-32-bytes",
            Initiators =
            [
                new InitiatorSpec("ethlog", new JsonObject { ["topics"] = new JsonArray("0x12", null, 5) }),
                new InitiatorSpec("ethlog", new JsonObject { ["address"] = "0x123", ["topics"] = "0x00" }),
                new InitiatorSpec("runlog", new JsonObject { ["topics"] = new JsonArray(null, null, null) }),
            ],
            Tasks = [new TaskSpec("noop")],
        };

        var refused = (await FluentActions.Awaiting(() => host.Jobs.AddJobAsync(job)).Should().ThrowAsync<JobValidationException>()).Which;

        refused.Errors.Select(e => e.Path).Should().BeEquivalentTo(
            "initiators[0].params.address",
            "initiators[0].params.topics[0]",
            "initiators[0].params.topics[2]",
            "initiators[1].params.address",
            "initiators[1].params.topics",
            "id",
            "initiators[2].params.topics");
        refused.Errors.Should().Contain(e => e.Path == "initiators[1].params.address" && e.Message.Contains("0x and 40 hex digits") && e.Message.Contains("\"0x123\""));
        refused.Errors.Should().Contain(e => e.Path == "id" && e.Message.Contains("at most 32 UTF-8 bytes"));
        (await host.Jobs.ListJobsAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Bad_chain_options_fail_the_start_with_every_error_and_its_configuration_path()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Loop:Jobs:Ethereum:Url"] = "ftp://user:secret@node.example:21",
            ["Loop:Jobs:Ethereum:PollInterval"] = "00:00:00",
            ["Loop:Jobs:Ethereum:ReorgDepth"] = "0",
            ["Loop:Jobs:Ethereum:Chain"] = "main chain!",
            ["Loop:Jobs:Ethereum:ReconnectDelay"] = "00:01:00",
            ["Loop:Jobs:Ethereum:MaxReconnectDelay"] = "00:00:01",
        });
        builder.Services.AddLoopJobs().UseInMemoryStore().UseEthereum(builder.Configuration.GetSection("Loop:Jobs:Ethereum"));
        using var host = builder.Build();

        var failure = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        failure.Failures.Should().Contain(f => f.StartsWith("Loop:Jobs:Ethereum:Url must be an absolute ws://", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("Loop:Jobs:Ethereum:PollInterval must be positive", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("Loop:Jobs:Ethereum:ReorgDepth must be 1 to 10000", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("Loop:Jobs:Ethereum:Chain", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("Loop:Jobs:Ethereum:MaxReconnectDelay must not be shorter", StringComparison.Ordinal));
        failure.Message.Should().NotContain("secret", "a node URL's credentials are never shown");
    }

    [Fact]
    public void Every_message_of_the_package_has_its_own_event_id_in_its_range()
    {
        var ids = typeof(EthereumChain).Assembly.GetType("Loop.Jobs.Ethereum.Telemetry.EthereumLog")!.GetNestedType("EventIds", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        EventIdCheck.Duplicates(ids).Should().BeEmpty();
        EventIdCheck.Values(ids).Should().OnlyContain(v => v >= 700 && v < 750);
        EventIdCheck.Count(ids).Should().Be(8);
    }

    [Fact]
    public void A_run_request_topic_is_the_job_id_padded_and_the_event_topic_is_its_signature_hash()
    {
        RunRequest.JobTopic("abc").Should().Be("0x616263" + new string('0', 58));
        RunRequest.EventTopic.Should().HaveLength(66).And.StartWith("0x");
        FluentActions.Invoking(() => RunRequest.JobTopic(new string('x', 33))).Should().Throw<ArgumentException>().WithMessage("*up to 32 UTF-8 bytes*");
    }
}
