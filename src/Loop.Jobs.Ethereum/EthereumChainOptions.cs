using System.ComponentModel.DataAnnotations;
using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.Jobs.Ethereum;

/// <summary>The Ethereum node Loop.Jobs listens to (<c>Loop:Jobs:Ethereum</c> in configuration).</summary>
public sealed class EthereumChainOptions
{
    /// <summary>Default <see cref="PollInterval"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Default <see cref="RequestTimeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Default <see cref="IdleProbeInterval"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultIdleProbeInterval = TimeSpan.FromSeconds(30);

    /// <summary>Default <see cref="ReorgDepth"/>: 64 blocks.</summary>
    public const int DefaultReorgDepth = 64;

    /// <summary>Default <see cref="MaxBlocksPerRequest"/>: 1,000 blocks.</summary>
    public const int DefaultMaxBlocksPerRequest = 1000;

    /// <summary>
    /// The node's JSON-RPC URL: <c>ws://</c> or <c>wss://</c> to subscribe (<c>eth_subscribe</c> to new heads and logs),
    /// <c>http://</c> or <c>https://</c> to poll (<c>eth_getBlockByNumber</c>, <c>eth_getLogs</c>). Over WebSocket, a
    /// node that refuses subscriptions is polled over the same connection. Required.
    /// </summary>
    [Required]
    public Uri? Url { get; set; }

    /// <summary>How often a polled node is asked for its latest block. Default <see cref="DefaultPollInterval"/>.</summary>
    [Positive]
    public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

    /// <summary>The longest wait for a connection or an answer; a node that does not answer in time is reconnected. Default <see cref="DefaultRequestTimeout"/>.</summary>
    [Positive]
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>
    /// How long a subscribed node may stay silent before it is asked for its block number (bounded by
    /// <see cref="RequestTimeout"/>): a connection that hangs without closing is found and replaced. Default
    /// <see cref="DefaultIdleProbeInterval"/>.
    /// </summary>
    [Positive]
    public TimeSpan IdleProbeInterval { get; set; } = DefaultIdleProbeInterval;

    /// <summary>
    /// How many blocks below the head a log's block is re-checked for replacement (a reorganisation); a log whose block
    /// changes within that depth is reported removed. Default <see cref="DefaultReorgDepth"/>.
    /// </summary>
    [Between(1, 10_000)]
    public int ReorgDepth { get; set; } = DefaultReorgDepth;

    /// <summary>The widest block range one <c>eth_getLogs</c> asks for while backfilling. Default <see cref="DefaultMaxBlocksPerRequest"/>.</summary>
    [Between(1, 1_000_000)]
    public int MaxBlocksPerRequest { get; set; } = DefaultMaxBlocksPerRequest;

    /// <summary>The name the chain's latest head is saved under in the job store. Default <see cref="HeadTrackerOptions.DefaultChain"/>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.:-]{1,64}$", ErrorMessage = "{0} must be 1 to 64 letters, digits, '_', '.', ':' or '-'")]
    public string Chain { get; set; } = HeadTrackerOptions.DefaultChain;

    /// <summary>The first wait before reconnecting to a lost node (heads and each log subscription); doubled after each failed attempt. Default <see cref="HeadTrackerOptions.DefaultReconnectDelay"/>.</summary>
    [Positive]
    public TimeSpan ReconnectDelay { get; set; } = HeadTrackerOptions.DefaultReconnectDelay;

    /// <summary>The longest wait between reconnect attempts. Default <see cref="HeadTrackerOptions.DefaultMaxReconnectDelay"/>.</summary>
    [Positive]
    public TimeSpan MaxReconnectDelay { get; set; } = HeadTrackerOptions.DefaultMaxReconnectDelay;

    internal static IEnumerable<(string Member, string Error)> Rules(EthereumChainOptions options)
    {
        if (options.Url is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("ws" or "wss" or "http" or "https")))
        {
            yield return (nameof(Url), $"must be an absolute ws://, wss://, http:// or https:// URL (was {Describe(url)})");
        }

        if (options.MaxReconnectDelay < options.ReconnectDelay)
        {
            yield return (nameof(MaxReconnectDelay), $"must not be shorter than ReconnectDelay ({options.ReconnectDelay}) (was {options.MaxReconnectDelay})");
        }
    }

    /// <summary>The URL without credentials or query (an API key in a node URL is a secret): for logs and errors.</summary>
    internal static string Describe(Uri url) =>
        url.IsAbsoluteUri ? $"{url.Scheme}://{url.Host}{(url.IsDefaultPort ? string.Empty : $":{url.Port}")}" : "(a relative URL)";
}

[OptionsValidator]
internal sealed partial class EthereumChainOptionsValidator : IValidateOptions<EthereumChainOptions>;
