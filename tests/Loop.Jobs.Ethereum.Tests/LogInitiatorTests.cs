using Loop.Testing;
using System.Text;
using System.Text.Json.Nodes;

namespace Loop.Jobs.Ethereum.Tests;

/// <summary>The ethlog and runlog initiators on a real local chain (ganache), over WebSocket and over HTTP polling.</summary>
public sealed class LogInitiatorTests
{
    [Theory]
    [InlineData("ws")]
    [InlineData("http")]
    public async Task An_ethlog_job_runs_once_per_matching_log(string transport)
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);
        var other = await LogContract.DeployAsync(chain);
        await using var host = await ChainHost.StartAsync(transport == "ws" ? chain.WebSocketUrl : chain.HttpUrl, configure: o => o.PollInterval = TimeSpan.FromMilliseconds(50));
        var job = await host.Jobs.AddJobAsync(new JobSpec
        {
            Initiators = [new InitiatorSpec("ethlog", new JsonObject { ["address"] = contract.Address, ["topics"] = new JsonArray(LogContract.Topic(7)) })],
            Tasks = [new TaskSpec("noop")],
        });
        await Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(job.Id, 0, default) is not null, "the subscription started");

        var first = await contract.EmitAsync(LogContract.Topic(7), LogContract.Topic(1), [1, 2, 3]);
        await contract.EmitAsync(LogContract.Topic(8), LogContract.Topic(1), [9]);
        await other.EmitAsync(LogContract.Topic(7), LogContract.Topic(1), [9]);
        var second = await contract.EmitAsync(LogContract.Topic(7), LogContract.Topic(2), []);
        await chain.MineAsync(2);

        var runs = await host.WaitForRunsAsync(job.Id, 2, r => r.Status == RunStatus.Completed);
        await host.WaitForHeadAsync((long)second.BlockNumber.Value + 2);
        await Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(job.Id, 0, default) >= (long)second.BlockNumber.Value, "the checkpoint passed the last log");
        runs = await host.Store.ListRunsAsync(job.Id, default);

        runs.Should().HaveCount(2, "one run per matching log: the other topic and the other contract start none");
        runs[0].Input!["data"]!.GetValue<string>().Should().Be("0x010203");
        runs[0].Input!["blockNumber"]!.GetValue<long>().Should().Be((long)first.BlockNumber.Value);
        runs[0].Input!["topics"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal(LogContract.Topic(7), LogContract.Topic(1));
        runs[0].Input!["address"]!.GetValue<string>().Should().Be(contract.Address);
        runs[0].CreationHeight.Should().Be((long)first.BlockNumber.Value);
        runs[1].Input!["blockHash"]!.GetValue<string>().Should().Be(second.BlockHash.ToLowerInvariant());
    }

    [Fact]
    public async Task A_runlog_request_runs_its_job_with_the_request_data_and_other_requests_start_nothing()
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);
        await using var host = await ChainHost.StartAsync(chain.WebSocketUrl);
        var job = await host.Jobs.AddJobAsync(new JobSpec { Id = "price-request", Initiators = [new InitiatorSpec("runlog", new JsonObject { ["address"] = contract.Address })], Tasks = [new TaskSpec("jsonparse", new JsonObject { ["path"] = "pair" })], MinConfirmations = 2 });
        await Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(job.Id, 0, default) is not null, "the subscription started");

        await contract.RequestRunAsync("another-job", Encoding.UTF8.GetBytes("""{"pair":"BTC/USD"}"""));
        await contract.RequestRunAsync("price-request", Encoding.UTF8.GetBytes("not json"));
        var request = await contract.RequestRunAsync("price-request", Encoding.UTF8.GetBytes("""{"pair":"ETH/USD","amount":2}"""));
        var waiting = (await host.WaitForRunsAsync(job.Id, 1, r => r.Status == RunStatus.PendingConfirmations))[0];
        waiting.WaitForHeight.Should().Be((long)request.BlockNumber.Value + 2, "the request's block plus minConfirmations");
        await chain.MineAsync(2);

        var runs = await host.WaitForRunsAsync(job.Id, 1, r => r.Status == RunStatus.Completed);
        await Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(job.Id, 0, default) >= (long)request.BlockNumber.Value, "the checkpoint passed the request");

        (await host.Store.ListRunsAsync(job.Id, default)).Should().ContainSingle();
        runs[0].Input!.ToJsonString().Should().Be("""{"pair":"ETH/USD","amount":2}""");
        runs[0].CreationHeight.Should().Be((long)request.BlockNumber.Value);
        runs[0].Data!.GetValue<string>().Should().Be("ETH/USD");
        host.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 704 && r.Message.Contains("price-request") && r.Message.Contains("not UTF-8 JSON"), "a request the job cannot read is named, not thrown");
    }

    [Fact]
    public async Task An_archived_job_stops_watching_and_a_live_one_goes_on()
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);
        await using var host = await ChainHost.StartAsync(chain.WebSocketUrl);
        JobSpec Spec() => new() { Initiators = [new InitiatorSpec("ethlog", new JsonObject { ["address"] = contract.Address })], Tasks = [new TaskSpec("noop")] };
        var archived = await host.Jobs.AddJobAsync(Spec());
        await Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(archived.Id, 0, default) is not null, "the subscription started");
        await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(1), [1]);
        await host.WaitForRunsAsync(archived.Id, 1);

        await host.Jobs.ArchiveJobAsync(archived.Id);
        var live = await host.Jobs.AddJobAsync(Spec());
        await Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(live.Id, 0, default) is not null, "the second subscription started");
        await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(2), [2]);
        await host.WaitForRunsAsync(live.Id, 1);

        (await host.Store.ListRunsAsync(archived.Id, default)).Should().ContainSingle("the archived job's subscription was stopped");
        host.Logs.GetSnapshot().Count(r => r.Id.Id == 700 && r.Message.Contains(archived.Id)).Should().Be(1);
    }
}
