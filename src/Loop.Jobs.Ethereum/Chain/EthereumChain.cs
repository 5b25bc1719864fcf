using System.Runtime.CompilerServices;
using Loop.Jobs.Ethereum.Rpc;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Newtonsoft.Json.Linq;

namespace Loop.Jobs.Ethereum;

/// <summary>
/// An Ethereum node over JSON-RPC as a head source (for the <see cref="HeadTracker"/>) and a log source (for the
/// <c>ethlog</c> and <c>runlog</c> initiators). Over WebSocket it subscribes (<c>eth_subscribe</c> to <c>newHeads</c>
/// and <c>logs</c> with the filter's address and topics); over HTTP, or when the node refuses subscriptions, it polls
/// (<c>eth_getBlockByNumber</c>, <c>eth_getLogs</c> from the last block processed). Each watch is its own connection.
/// </summary>
public sealed class EthereumChain : IHeadSource, ILogSource
{
    private readonly EthereumChainOptions _options;
    private readonly TimeProvider _clock;
    private readonly Uri _url;

    /// <summary>Creates the source over the node <see cref="EthereumChainOptions.Url"/> names.</summary>
    public EthereumChain(EthereumChainOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _url = options.Url ?? throw new ArgumentException("EthereumChainOptions.Url is required", nameof(options));
        _clock = timeProvider ?? TimeProvider.System;
        Description = EthereumChainOptions.Describe(_url);
    }

    /// <inheritdoc cref="IHeadSource.Description" />
    public string Description { get; }

    private bool OverWebSocket => _url.Scheme is "ws" or "wss";

    /// <inheritdoc />
    public async Task<long> GetBlockNumberAsync(CancellationToken cancellationToken)
    {
        var (client, socket) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (socket)
        {
            return await Rpc(client).GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<long, string>> GetBlockHashesAsync(IReadOnlyCollection<long> numbers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        var hashes = new Dictionary<long, string>();
        if (numbers.Count == 0)
        {
            return hashes;
        }

        var (client, socket) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (socket)
        {
            var rpc = Rpc(client);
            foreach (var number in numbers.Distinct())
            {
                if (await rpc.GetHeadAsync(number, cancellationToken).ConfigureAwait(false) is { } block)
                {
                    hashes[number] = block.Hash;
                }
            }
        }

        return hashes;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<Head> WatchHeadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (client, socket) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (socket)
        {
            var rpc = Rpc(client);
            var subscription = await TrySubscribeAsync(socket, "newHeads").ConfigureAwait(false);
            var last = await rpc.GetLatestAsync(cancellationToken).ConfigureAwait(false);
            yield return last;
            if (subscription is not null)
            {
                await foreach (var (_, result) in NotificationsAsync(socket!, rpc, cancellationToken).ConfigureAwait(false))
                {
                    if (EthereumRpc.ToHead(result) is { } head)
                    {
                        yield return head;
                    }
                }

                yield break;
            }

            while (true)
            {
                await Task.Delay(_options.PollInterval, _clock, cancellationToken).ConfigureAwait(false);
                var head = await rpc.GetLatestAsync(cancellationToken).ConfigureAwait(false);
                if (head != last)
                {
                    last = head;
                    yield return head;
                }
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LogBatch> WatchLogsAsync(LogFilter filter, long fromBlock, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var (client, socket) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (socket)
        {
            var rpc = Rpc(client);

            // Subscribed before the backfill, so that a log in a block mined meanwhile is not missed between the two.
            var logs = await TrySubscribeAsync(socket, "logs", ToSubscriptionFilter(filter)).ConfigureAwait(false);
            var heads = logs is null ? null : await TrySubscribeAsync(socket, "newHeads").ConfigureAwait(false);
            var recent = new RecentLogs(_options.ReorgDepth);
            var processed = fromBlock - 1;
            var latest = await rpc.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var batch in ReadRangesAsync(rpc, filter, recent, processed, latest, cancellationToken).ConfigureAwait(false))
            {
                processed = batch.ProcessedThrough;
                yield return batch;
            }

            if (logs is not null && heads is not null)
            {
                await foreach (var (subscription, result) in NotificationsAsync(socket!, rpc, cancellationToken).ConfigureAwait(false))
                {
                    if (subscription == logs)
                    {
                        if (EthereumRpc.ToLog(result.ToObject<FilterLog>()!) is not { } log || !filter.Matches(log) || log.BlockNumber < fromBlock)
                        {
                            continue;
                        }

                        var changed = log.Removed ? recent.Remove(log) : recent.AddNew([log]);
                        if (changed.Count > 0)
                        {
                            yield return new LogBatch(changed, processed);
                        }
                    }
                    else if (subscription == heads && EthereumRpc.ToHead(result) is { } head)
                    {
                        // Logs of a block arrive with it; a head says the blocks before it are complete.
                        var removed = await recent.CheckAsync(rpc, head.Number, cancellationToken).ConfigureAwait(false);
                        processed = Math.Max(processed, head.Number - 1);
                        yield return new LogBatch(removed, processed);
                    }
                }

                yield break;
            }

            while (true)
            {
                await Task.Delay(_options.PollInterval, _clock, cancellationToken).ConfigureAwait(false);
                var head = await rpc.GetLatestAsync(cancellationToken).ConfigureAwait(false);
                var removed = await recent.CheckAsync(rpc, head.Number, cancellationToken).ConfigureAwait(false);
                if (removed.Count > 0)
                {
                    // The blocks of removed logs are read again: the chain that replaced them may hold logs of its own.
                    processed = Math.Min(processed, removed.Min(l => l.BlockNumber) - 1);
                    yield return new LogBatch(removed, processed);
                }

                await foreach (var batch in ReadRangesAsync(rpc, filter, recent, processed, head.Number, cancellationToken).ConfigureAwait(false))
                {
                    processed = batch.ProcessedThrough;
                    yield return batch;
                }
            }
        }
    }

    // The logs of the blocks after `after` through `through` that were not reported before, one
    // batch per eth_getLogs of at most MaxBlocksPerRequest blocks (the backfill, and each poll).
    private async IAsyncEnumerable<LogBatch> ReadRangesAsync(EthereumRpc rpc, LogFilter filter, RecentLogs recent, long after, long through, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (after < through)
        {
            var to = Math.Min(through, after + _options.MaxBlocksPerRequest);
            var found = recent.AddNew(await rpc.GetLogsAsync(filter, after + 1, to, cancellationToken).ConfigureAwait(false));
            after = to;
            yield return new LogBatch(found, to);
        }
    }

    // The subscription's notifications; when the node stays silent for an interval it is asked for its block number
    // (bounded by the request timeout), so that a connection that hangs is found and replaced, not waited on forever.
    private async IAsyncEnumerable<(string Subscription, JToken Result)> NotificationsAsync(WebSocketRpcClient socket, EthereumRpc rpc, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = socket.Notifications;
        while (true)
        {
            while (reader.TryRead(out var notification))
            {
                yield return notification;
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var ready = reader.WaitToReadAsync(idle.Token).AsTask();
            var silence = Task.Delay(_options.IdleProbeInterval, _clock, idle.Token);
            if (await Task.WhenAny(ready, silence).ConfigureAwait(false) == ready)
            {
                await idle.CancelAsync().ConfigureAwait(false);
                if (!await ready.ConfigureAwait(false))
                {
                    yield break;
                }

                continue;
            }

            await idle.CancelAsync().ConfigureAwait(false);
            try
            {
                await ready.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The wait ended by the probe below.
            }

            cancellationToken.ThrowIfCancellationRequested();
            await rpc.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static JObject ToSubscriptionFilter(LogFilter filter)
    {
        var parameters = new JObject();
        if (filter.Address is { } address)
        {
            parameters["address"] = address;
        }

        if (filter.Topics.Count > 0)
        {
            parameters["topics"] = new JArray(filter.Topics.Select(t => t is null ? JValue.CreateNull() : new JValue(t)));
        }

        return parameters;
    }

    // A node that refuses subscriptions (an error answer, not a lost connection) is polled instead.
    private static async Task<string?> TrySubscribeAsync(WebSocketRpcClient? socket, params object[] parameters)
    {
        if (socket is null)
        {
            return null;
        }

        try
        {
            return await socket.SubscribeAsync(parameters).ConfigureAwait(false);
        }
        catch (RpcResponseException)
        {
            return null;
        }
    }

    private async Task<(IClient Client, WebSocketRpcClient? Socket)> ConnectAsync(CancellationToken cancellationToken)
    {
        if (OverWebSocket)
        {
            var socket = await WebSocketRpcClient.ConnectAsync(_url, _options.RequestTimeout, _clock, cancellationToken).ConfigureAwait(false);
            return (socket, socket);
        }

        return (new RpcClient(_url), null);
    }

    private EthereumRpc Rpc(IClient client) => new(client, _options.RequestTimeout, _clock);
}
