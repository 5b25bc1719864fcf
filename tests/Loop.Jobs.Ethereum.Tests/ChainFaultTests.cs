using System.Text.Json.Nodes;
using Loop.Jobs.Stores.Postgres;
using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Jobs.Ethereum.Tests;

/// <summary>Heads, confirmations, restarts, a node that goes away and comes back, a reorganisation, and nodes that hang or lie.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ChainFaultTests(SharedPostgres postgres)
{
    [Fact]
    public async Task Heads_are_tracked_saved_and_read_back_when_the_host_restarts()
    {
        await using var chain = await Ganache.StartAsync();
        var prefix = PostgresFixture.UniqueTable();
        long held;
        await using (var host = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture, prefix))
        {
            held = await chain.MineAsync(3);
            await host.WaitForHeadAsync(held);
            host.Heads.Connected.Should().BeTrue();
            host.Heads.Head!.Hash.Should().Be((await chain.CallAsync("eth_getBlockByNumber", "latest", false))!["hash"]!.GetValue<string>());
            (await host.HealthAsync()).Status.Should().Be(HealthStatus.Healthy);
        }

        var store = new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix });
        (await store.GetHeadAsync(HeadTrackerOptions.DefaultChain, default))!.Number.Should().Be(held);
        await chain.MineAsync(2);

        // A host that cannot reach the node starts from the saved head, and says why it is not connected.
        var closed = FreePort.Next();
        await using (var offline = await ChainHost.StartAsync(new Uri($"ws://127.0.0.1:{closed}"), postgres.Fixture, prefix))
        {
            await Eventually.WaitAsync(() => offline.Heads.Head?.Number == held, "the saved head read back");
            offline.Heads.Connected.Should().BeFalse();
            var health = await offline.HealthAsync();
            health.Status.Should().Be(HealthStatus.Unhealthy);
            await Eventually.WaitAsync(async () => (await offline.HealthAsync()).Entries["HeadTracker"].Description?.Contains($"not connected to ws://127.0.0.1:{closed}") == true, "the health check names the node");
        }

        await using var back = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture, prefix);
        await back.WaitForHeadAsync(held + 2);
        (await store.GetHeadAsync(HeadTrackerOptions.DefaultChain, default))!.Number.Should().Be(held + 2);
    }

    [Fact]
    public async Task Logs_emitted_while_no_host_ran_are_backfilled_on_start_and_none_runs_twice()
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);
        var prefix = PostgresFixture.UniqueTable();
        var receipts = new List<Nethereum.RPC.Eth.DTOs.TransactionReceipt>();
        JobSpec job;
        await using (var first = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture, prefix))
        {
            job = await first.Jobs.AddJobAsync(new JobSpec { Initiators = [EthLog(contract)], Tasks = [new TaskSpec("noop")] });
            await Subscribed(first, job);
            receipts.Add(await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(1), [1]));
            await first.WaitForRunsAsync(job.Id, 1, r => r.Status == RunStatus.Completed);
        }

        receipts.Add(await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(2), [2]));
        await chain.MineAsync(3);
        receipts.Add(await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(3), [3]));

        await using var second = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture, prefix);
        var last = await chain.MineAsync(2);
        await Eventually.WaitAsync(async () => await second.Store.GetInitiatorCheckpointAsync(job.Id, 0, default) >= last - 1, "the restarted subscription caught up");
        var runs = await second.WaitForRunsAsync(job.Id, 3, r => r.Status == RunStatus.Completed);

        runs.Should().HaveCount(3);
        runs.Select(r => r.Input!["blockHash"]!.GetValue<string>()).Should().Equal(receipts.Select(r => r.BlockHash.ToLowerInvariant()));
    }

    [Fact]
    public async Task A_run_waiting_for_3_confirmations_resumes_after_3_mined_blocks_and_not_before()
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);
        await using var host = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture);
        var (job, barrier) = await ConfirmingJobAsync(host, contract);

        var log = await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(2), [1]);
        var block = (long)log.BlockNumber.Value;
        var run = (await host.WaitForRunsAsync(job.Id, 1, r => r.Status == RunStatus.PendingConfirmations))[0];
        run.CreationHeight.Should().Be(block);
        run.WaitForHeight.Should().Be(block + 3);

        await chain.MineAsync(2);
        await host.WaitForHeadAsync(block + 2);
        await BarrierAsync(host, barrier);
        (await host.Store.GetRunAsync(run.Id, default))!.Status.Should().Be(RunStatus.PendingConfirmations, "two blocks on, the run still waits");

        await chain.MineAsync();
        await host.WaitForStatusAsync(run.Id, RunStatus.Completed);
    }

    [Fact]
    public async Task When_the_node_stops_and_comes_back_the_tracker_reconnects_and_no_log_is_missed_or_run_twice()
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var host = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture, clock: clock);
        var job = await host.Jobs.AddJobAsync(new JobSpec { Initiators = [EthLog(contract)], Tasks = [new TaskSpec("noop")] });
        await Subscribed(host, job);
        var receipts = new List<Nethereum.RPC.Eth.DTOs.TransactionReceipt> { await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(1), [1]) };
        await host.WaitForRunsAsync(job.Id, 1);

        var confirming = await host.Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")], MinConfirmations = 1 });
        await chain.StopAsync();
        await Eventually.WaitAsync(() => !host.Heads.Connected, "the tracker reports the node lost");
        (await host.HealthAsync()).Entries["HeadTracker"].Status.Should().Be(HealthStatus.Unhealthy);
        await Eventually.WaitAsync(() => host.Logs.GetSnapshot().Any(r => r.Id.Id == 701), "the subscription reports the node lost");

        // A run that needs the chain while it is away waits for its connection.
        var waiting = await host.Jobs.TriggerRunAsync(confirming.Id);
        await host.WaitForStatusAsync(waiting.Id, RunStatus.PendingConnection);

        // Logs the host cannot see as they happen: the reconnect waits on the (fake) clock until they are mined.
        await chain.StartAgainAsync();
        receipts.Add(await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(2), [2]));
        receipts.Add(await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(3), [3]));
        await Eventually.WaitAsync(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            return host.Heads.Connected && host.Logs.GetSnapshot().Any(r => r.Id.Id == 703);
        }, "the tracker and the subscription reconnected");

        var last = await chain.MineAsync(2);
        await host.WaitForHeadAsync(last);
        await Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(job.Id, 0, default) >= last - 1, "the subscription processed the chain");
        var runs = await host.WaitForRunsAsync(job.Id, 3, r => r.Status == RunStatus.Completed);
        runs.Should().HaveCount(3, "each log started one run, none twice");
        runs.Select(r => r.Input!["blockHash"]!.GetValue<string>()).Should().Equal(receipts.Select(r => r.BlockHash.ToLowerInvariant()));
        host.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 624, "the tracker says when the node is back");
        await host.WaitForStatusAsync(waiting.Id, RunStatus.Completed);
    }

    [Theory]
    [InlineData("ws")]
    [InlineData("http")]
    public async Task A_reorganisation_that_drops_a_log_cancels_its_unconfirmed_run_with_the_reason(string transport)
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);

        // Over WebSocket the tracker hears of heads as they come; over HTTP it polls for the latest block.
        await using var host = await ChainHost.StartAsync(
            transport == "ws" ? chain.WebSocketUrl : chain.HttpUrl, postgres.Fixture, configure: o => o.PollInterval = TimeSpan.FromMilliseconds(50));
        var (job, barrier) = await ConfirmingJobAsync(host, contract);

        var snapshot = await chain.SnapshotAsync();
        var log = await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(1), [1]);
        var run = (await host.WaitForRunsAsync(job.Id, 1, r => r.Status == RunStatus.PendingConfirmations))[0];

        await chain.RevertAsync(snapshot);
        await chain.MineAsync();
        var cancelled = await host.WaitForStatusAsync(run.Id, RunStatus.Cancelled);

        cancelled.Error.Should().Contain($"{log.BlockHash.ToLowerInvariant()}:0").And.Contain("reorganisation");
        var top = await chain.MineAsync(4);
        await host.WaitForHeadAsync(top);
        await BarrierAsync(host, barrier);
        (await host.Store.ListRunsAsync(job.Id, default)).Should().ContainSingle().Which.Status.Should().Be(RunStatus.Cancelled);
    }

    [Fact]
    public async Task A_reorganisation_while_no_host_ran_cancels_the_unconfirmed_run_when_a_host_starts()
    {
        await using var chain = await Ganache.StartAsync();
        var prefix = PostgresFixture.UniqueTable();
        var (barrier, run, log) = await RunWaitingOnARevertedLogAsync(chain, prefix);

        // The chain reaches the log's height again with another block, short of the run's confirmations, so only the
        // check at start can tell.
        var replaced = await chain.MineAsync();
        replaced.Should().Be((long)log.BlockNumber.Value);

        await using var second = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture, prefix);
        var cancelled = await second.WaitForStatusAsync(run.Id, RunStatus.Cancelled);
        cancelled.Error.Should().Contain($"{log.BlockHash.ToLowerInvariant()}:0").And.Contain("reorganisation");

        var top = await chain.MineAsync(4);
        await second.WaitForHeadAsync(top);
        await BarrierAsync(second, barrier);
        (await second.Store.GetRunAsync(run.Id, default))!.Status.Should().Be(RunStatus.Cancelled, "a run cancelled for its log stays cancelled as confirmations come");
    }

    /// <summary>
    /// As above, but the new chain is already past the run's confirmations when a host starts, and the node is slow to
    /// say which block now stands at the log's height: the runner must not resume the run on the first head, before the
    /// log initiator has looked at the log's block. It used to, and ran the job for a log that no longer exists.
    /// </summary>
    [Fact]
    public async Task A_run_whose_confirmations_a_replacing_chain_already_reached_waits_for_its_log_to_be_checked_and_is_cancelled()
    {
        await using var chain = await Ganache.StartAsync();
        var prefix = PostgresFixture.UniqueTable();
        var (barrier, run, log) = await RunWaitingOnARevertedLogAsync(chain, prefix);

        // The new chain mines past the run's confirmations while no host runs.
        var top = await chain.MineAsync(4);
        top.Should().BeGreaterThanOrEqualTo(run.WaitForHeight!.Value);

        SlowNode? node = null;
        await using var second = await ChainHost.StartAsync(
            chain.WebSocketUrl,
            postgres.Fixture,
            prefix,
            services: s => s.AddSingleton<ILogSource>(sp => node = new SlowNode(sp.GetRequiredService<EthereumChain>())));

        // The head is past the confirmations and the runner has dispatched since (another job's run finished).
        await second.WaitForHeadAsync(top);
        await BarrierAsync(second, barrier);
        (await second.Store.GetRunAsync(run.Id, default))!.Status.Should().Be(RunStatus.PendingConfirmations, "the run's log has not been checked yet");

        node!.Answers.SetResult();
        var cancelled = await second.WaitForStatusAsync(run.Id, RunStatus.Cancelled);
        cancelled.Error.Should().Contain($"{log.BlockHash.ToLowerInvariant()}:0").And.Contain("reorganisation");
        await BarrierAsync(second, barrier);
        (await second.Store.GetRunAsync(run.Id, default))!.Status.Should().Be(RunStatus.Cancelled);
    }

    /// <summary>
    /// The log watch's connection drops while the head tracker's stays up, and meanwhile the chain replaces a waiting
    /// run's block and mines past its confirmations: the watch's own reorganisation checks cannot see it, so the host
    /// must not resume the run on the tracker's heads before the re-subscribing initiator has looked at the log's block.
    /// </summary>
    [Fact]
    public async Task A_run_whose_log_was_replaced_while_the_watch_was_down_waits_for_its_log_to_be_checked_and_is_cancelled()
    {
        await using var chain = await Ganache.StartAsync();
        var contract = await LogContract.DeployAsync(chain);
        SlowNode? node = null;
        await using var host = await ChainHost.StartAsync(
            chain.WebSocketUrl,
            postgres.Fixture,
            services: s => s.AddSingleton<ILogSource>(sp => node = new SlowNode(sp.GetRequiredService<EthereumChain>()) { Answers = AnsweredGate() }));
        var (job, barrier) = await ConfirmingJobAsync(host, contract);
        var snapshot = await chain.SnapshotAsync();
        var log = await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(1), [1]);
        var run = (await host.WaitForRunsAsync(job.Id, 1, r => r.Status == RunStatus.PendingConfirmations))[0];

        // The watch drops, and its re-subscription's question about the log's block goes unanswered for now.
        node!.Answers = SlowNode.NewGate();
        node.DropWatches();
        await Eventually.WaitAsync(() => host.Logs.GetSnapshot().Any(r => r.Message.Contains("the test dropped the connection", StringComparison.Ordinal)), "the watch lost");
        await chain.RevertAsync(snapshot);
        var top = await chain.MineAsync(4);
        top.Should().BeGreaterThanOrEqualTo(run.WaitForHeight!.Value);

        await host.WaitForHeadAsync(top);
        await BarrierAsync(host, barrier);
        (await host.Store.GetRunAsync(run.Id, default))!.Status.Should().Be(RunStatus.PendingConfirmations, "the run's log has not been checked since the watch came back");

        node.Answers.SetResult();
        var cancelled = await host.WaitForStatusAsync(run.Id, RunStatus.Cancelled);
        cancelled.Error.Should().Contain($"{log.BlockHash.ToLowerInvariant()}:0").And.Contain("reorganisation");

        static TaskCompletionSource AnsweredGate()
        {
            var gate = SlowNode.NewGate();
            gate.SetResult();
            return gate;
        }
    }

    [Theory]
    [InlineData("silent", "had no answer within")]
    [InlineData("garbage", "not a JSON-RPC object")]
    public async Task A_node_that_hangs_or_lies_leaves_the_tracker_disconnected_with_the_reason_and_the_host_stops(string kind, string reason)
    {
        await using var node = kind == "silent" ? HostileNode.Silent() : HostileNode.Answering("this is not json");
        var host = await ChainHost.StartAsync(node.Url, configure: o => o.RequestTimeout = TimeSpan.FromMilliseconds(300));
        try
        {
            var job = await host.Jobs.AddJobAsync(new JobSpec { Initiators = [new InitiatorSpec("ethlog", new JsonObject { ["address"] = "0x" + new string('1', 40) })], Tasks = [new TaskSpec("noop")], MinConfirmations = 3 });

            // A run waiting for its log's confirmations: each resubscription asks this node for the log's block first.
            var waiting = new JobRun { Id = Guid.NewGuid(), JobId = job.Id, InitiatorType = "ethlog", CreatedAt = TimeProvider.System.GetUtcNow(), Status = RunStatus.PendingConfirmations, CreationHeight = 5, WaitForHeight = 7 };
            (await host.Store.CreateRunAsync(waiting, new InitiatorFire(0, "0x" + new string('a', 64) + ":0", waiting.CreatedAt), default)).Should().BeTrue();
            await Eventually.WaitAsync(async () => (await host.HealthAsync()).Entries["HeadTracker"].Description?.Contains(reason) == true, $"the health check says '{reason}'");
            await Eventually.WaitAsync(() => node.Connections >= 3, "the tracker and subscription keep trying");
            host.Heads.Connected.Should().BeFalse();
            await Eventually.WaitAsync(() => host.Logs.GetSnapshot().Any(r => r.Id.Id == 701 && r.Message.Contains(reason)), "the subscription names the fault");
            var seen = node.Connections;
            await Eventually.WaitAsync(() => node.Connections >= seen + 2, "the subscription tries again, re-checking the waiting run's block");
            (await host.Store.GetRunAsync(waiting.Id, default))!.Status.Should().Be(RunStatus.PendingConfirmations, "a node that hangs or lies cancels no run");
        }
        finally
        {
            await host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    // An ethlog job needing 3 confirmations, subscribed, and a web job to run as a barrier.
    private static async Task<(JobSpec Job, JobSpec Barrier)> ConfirmingJobAsync(ChainHost host, LogContract contract)
    {
        var job = await host.Jobs.AddJobAsync(new JobSpec { Initiators = [EthLog(contract)], Tasks = [new TaskSpec("noop")], MinConfirmations = 3 });
        var barrier = await host.Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] });
        await Subscribed(host, job);
        return (job, barrier);
    }

    private static InitiatorSpec EthLog(LogContract contract) => new("ethlog", new JsonObject { ["address"] = contract.Address });

    private static Task Subscribed(ChainHost host, JobSpec job) =>
        Eventually.WaitAsync(async () => await host.Store.GetInitiatorCheckpointAsync(job.Id, 0, default) is not null, $"job {job.Id} subscribed");

    /// <summary>
    /// A host (jobs in <paramref name="prefix"/>) sees a log whose run waits for 3 confirmations and stops; then the
    /// chain is reverted to before the log, so the log's height is free for another block. Returns a web job to use as a
    /// barrier, the waiting run and the log.
    /// </summary>
    private async Task<(JobSpec Barrier, JobRun Run, Nethereum.RPC.Eth.DTOs.TransactionReceipt Log)> RunWaitingOnARevertedLogAsync(Ganache chain, string prefix)
    {
        var contract = await LogContract.DeployAsync(chain);
        JobSpec barrier;
        JobRun run;
        Nethereum.RPC.Eth.DTOs.TransactionReceipt log;
        string snapshot;
        await using (var first = await ChainHost.StartAsync(chain.WebSocketUrl, postgres.Fixture, prefix))
        {
            JobSpec job;
            (job, barrier) = await ConfirmingJobAsync(first, contract);
            snapshot = await chain.SnapshotAsync();
            log = await contract.EmitAsync(LogContract.Topic(1), LogContract.Topic(1), [1]);
            run = (await first.WaitForRunsAsync(job.Id, 1, r => r.Status == RunStatus.PendingConfirmations))[0];
        }

        await chain.RevertAsync(snapshot);
        return (barrier, run, log);
    }

    /// <summary>
    /// The chain behind a node that is slow to say which blocks stand at given heights (its answers come once
    /// <see cref="Answers"/> is completed), and whose log watches can be dropped (<see cref="DropWatches"/>), while the head
    /// tracker keeps its own connection.
    /// </summary>
    private sealed class SlowNode(EthereumChain chain) : ILogSource
    {
        private CancellationTokenSource _drop = new();

        public TaskCompletionSource Answers { get; set; } = NewGate();

        public string Description => chain.Description;

        public static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void DropWatches()
        {
            var drop = _drop;
            _drop = new CancellationTokenSource();
            drop.Cancel();
        }

        public Task<long> GetBlockNumberAsync(CancellationToken cancellationToken) => chain.GetBlockNumberAsync(cancellationToken);

        public async Task<IReadOnlyDictionary<long, string>> GetBlockHashesAsync(IReadOnlyCollection<long> numbers, CancellationToken cancellationToken)
        {
            await Answers.Task.WaitAsync(cancellationToken);
            return await chain.GetBlockHashesAsync(numbers, cancellationToken);
        }

        public async IAsyncEnumerable<LogBatch> WatchLogsAsync(LogFilter filter, long fromBlock, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var dropped = _drop.Token;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, dropped);
            await using var batches = chain.WatchLogsAsync(filter, fromBlock, linked.Token).GetAsyncEnumerator(linked.Token);
            while (true)
            {
                bool more;
                try
                {
                    more = await batches.MoveNextAsync();
                }
                catch (OperationCanceledException) when (dropped.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new IOException("the test dropped the connection");
                }

                if (!more)
                {
                    yield break;
                }

                yield return batches.Current;
            }
        }
    }

    // A run of another job, started and finished after the head arrived: the runner has dispatched since.
    private static async Task BarrierAsync(ChainHost host, JobSpec barrier) =>
        await host.WaitForStatusAsync((await host.Jobs.TriggerRunAsync(barrier.Id)).Id, RunStatus.Completed);
}
