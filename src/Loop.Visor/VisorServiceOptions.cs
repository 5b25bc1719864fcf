using Loop.Options;

namespace Loop.Visor;

/// <summary>Options of <see cref="VisorService"/> that are not in config.toml.</summary>
public sealed class VisorServiceOptions
{
    /// <summary>The default of <see cref="PollInterval"/>: 2 s, as Vega Visor polls.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(2);

    /// <summary>The default of <see cref="RpcTimeout"/>: 5 s.</summary>
    public static readonly TimeSpan DefaultRpcTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="DownloadTimeout"/>: 120 s, as Vega Visor's auto install.</summary>
    public static readonly TimeSpan DefaultDownloadTimeout = TimeSpan.FromSeconds(120);

    /// <summary>How often upgrade sources are polled (and config.toml checked for edits); also once right after each start.</summary>
    /// <value>Positive. Default <see cref="DefaultPollInterval"/>.</value>
    [Positive]
    public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

    /// <summary>The deadline of one upgrade-status call.</summary>
    /// <value>Positive. Default <see cref="DefaultRpcTimeout"/>.</value>
    [Positive]
    public TimeSpan RpcTimeout { get; set; } = DefaultRpcTimeout;

    /// <summary>The deadline of each release-server step of an auto install (release lookup, checksum, the whole download).</summary>
    /// <value>Positive. Default <see cref="DefaultDownloadTimeout"/>.</value>
    [Positive]
    public TimeSpan DownloadTimeout { get; set; } = DefaultDownloadTimeout;

    /// <summary>Poll the run config's upgrade-status RPC endpoint when it has one. Default true.</summary>
    public bool UseUpgradeRpc { get; set; } = true;

    /// <summary>
    /// Link <c>current</c> to genesis even when it is missing on a home that was upgraded before (the <c>run
    /// --relink-genesis</c> flag). Default false: such a home is refused, naming the version that was current last.
    /// </summary>
    public bool RelinkGenesis { get; set; }
}
