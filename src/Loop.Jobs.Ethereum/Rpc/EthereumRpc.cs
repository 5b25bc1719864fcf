using System.Numerics;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.Blocks;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.RPC.Eth.Filters;
using Newtonsoft.Json.Linq;

namespace Loop.Jobs.Ethereum.Rpc;

/// <summary>The few Ethereum JSON-RPC calls the chain source makes, through Nethereum's request types over either transport.</summary>
/// <remarks>
/// Every call is bounded by <paramref name="timeout"/> here (Nethereum's own timeout is one static setting for the whole
/// process): a node that accepts and never answers fails the call, and the watch connects again.
/// </remarks>
internal sealed class EthereumRpc(IClient client, TimeSpan timeout, TimeProvider clock)
{
    public async Task<long> GetBlockNumberAsync(CancellationToken cancellationToken) =>
        ToLong(await Bounded(new EthBlockNumber(client).SendRequestAsync(), "eth_blockNumber", cancellationToken).ConfigureAwait(false), "eth_blockNumber");

    /// <summary>The latest block's head.</summary>
    public async Task<Head> GetLatestAsync(CancellationToken cancellationToken) =>
        await GetHeadAsync(BlockParameter.CreateLatest(), cancellationToken).ConfigureAwait(false) ?? throw new InvalidDataException("eth_getBlockByNumber(latest) returned no block");

    /// <summary>The head of block <paramref name="number"/> on the chain now, or null when the chain is shorter.</summary>
    public Task<Head?> GetHeadAsync(long number, CancellationToken cancellationToken) => GetHeadAsync(new BlockParameter((ulong)number), cancellationToken);

    public async Task<IReadOnlyList<ChainLog>> GetLogsAsync(LogFilter filter, long from, long to, CancellationToken cancellationToken)
    {
        var input = new NewFilterInput
        {
            FromBlock = new BlockParameter((ulong)from),
            ToBlock = new BlockParameter((ulong)to),
            Address = filter.Address is { } address ? [address] : null,
            Topics = filter.Topics.Count == 0 ? null : [.. filter.Topics.Cast<object?>()],
        };
        var logs = await Bounded(new EthGetLogs(client).SendRequestAsync(input), "eth_getLogs", cancellationToken).ConfigureAwait(false) ?? [];
        return [.. logs.Select(ToLog).OfType<ChainLog>().Where(filter.Matches)];
    }

    /// <summary>A <c>newHeads</c> notification's head, or null when it lacks a number or hash.</summary>
    public static Head? ToHead(JToken notification) =>
        notification.ToObject<Block>() is { Number: { } number, BlockHash: { } hash } && number.Value >= 0 && number.Value <= long.MaxValue
            ? new Head((long)number.Value, hash)
            : null;

    /// <summary>A log as Loop reports it, or null when the node sent one without a block (pending) or with numbers out of range.</summary>
    public static ChainLog? ToLog(FilterLog log)
    {
        if (log.BlockHash is null || log.BlockNumber is null || log.LogIndex is null || log.Address is null
            || !InRange(log.BlockNumber) || !InRange(log.LogIndex))
        {
            return null;
        }

        return new ChainLog(
            log.Address.ToLowerInvariant(),
            [.. (log.Topics ?? []).Select(t => t?.ToString()?.ToLowerInvariant() ?? string.Empty)],
            log.Data ?? "0x",
            (long)log.BlockNumber.Value,
            log.BlockHash.ToLowerInvariant(),
            log.TransactionHash,
            (long)log.LogIndex.Value,
            log.Removed);
    }

    private static bool InRange(HexBigInteger value) => value.Value >= BigInteger.Zero && value.Value <= long.MaxValue;

    private static long ToLong(HexBigInteger? value, string method) =>
        value is not null && InRange(value) ? (long)value.Value : throw new InvalidDataException($"{method} returned no block number in range");

    private async Task<T> Bounded<T>(Task<T> call, string method, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(timeout, clock, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{method} had no answer within {timeout}");
        }
    }

    private async Task<Head?> GetHeadAsync(BlockParameter block, CancellationToken cancellationToken)
    {
        var found = await Bounded(new EthGetBlockWithTransactionsHashesByNumber(client).SendRequestAsync(block), "eth_getBlockByNumber", cancellationToken).ConfigureAwait(false);
        return found is { Number: { } number, BlockHash: { } hash } && InRange(number) ? new Head((long)number.Value, hash.ToLowerInvariant()) : null;
    }
}
