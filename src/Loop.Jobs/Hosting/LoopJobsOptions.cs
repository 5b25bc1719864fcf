using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.Jobs;

/// <summary>Options of the job service (<c>Loop:Jobs</c> in configuration).</summary>
public sealed class LoopJobsOptions
{
    /// <summary>The default of <see cref="MaxConcurrentRuns"/>.</summary>
    public const int DefaultMaxConcurrentRuns = 16;

    /// <summary>The default of <see cref="RunsPerJobClaim"/>.</summary>
    public const int DefaultRunsPerJobClaim = 8;

    /// <summary>The default of <see cref="RunLease"/>.</summary>
    public static readonly TimeSpan DefaultRunLease = TimeSpan.FromSeconds(30);

    /// <summary>The default of <see cref="PollInterval"/>.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>The default of <see cref="HttpTimeout"/>.</summary>
    public static readonly TimeSpan DefaultHttpTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="RunRetention"/>.</summary>
    public static readonly TimeSpan DefaultRunRetention = TimeSpan.FromDays(7);

    /// <summary>The default of <see cref="ReaperInterval"/>.</summary>
    public static readonly TimeSpan DefaultReaperInterval = TimeSpan.FromMinutes(10);

    /// <summary>The default of <see cref="ReaperBatchSize"/>.</summary>
    public const int DefaultReaperBatchSize = 1000;

    /// <summary>The default of <see cref="MaxRequestBodyBytes"/>.</summary>
    public const int DefaultMaxRequestBodyBytes = 64 * 1024;

    /// <summary>Runs (of different jobs) executing at once in this host. Default <see cref="DefaultMaxConcurrentRuns"/>.</summary>
    [Between(1, 4096)]
    public int MaxConcurrentRuns { get; set; } = DefaultMaxConcurrentRuns;

    /// <summary>
    /// Runs of one job a host takes in one claim: the first unfinished one and the fresh ones right after it, executed
    /// in order (fewer claims when a job has a queue of runs). Default <see cref="DefaultRunsPerJobClaim"/>.
    /// </summary>
    [Between(1, 1000)]
    public int RunsPerJobClaim { get; set; } = DefaultRunsPerJobClaim;

    /// <summary>
    /// How long a host holds a run it executes before another host may take it over (its lease; renewed after every
    /// task). A host that dies leaves its runs to others after this. Longer than <see cref="HttpTimeout"/>. Default
    /// <see cref="DefaultRunLease"/>.
    /// </summary>
    [Positive]
    public TimeSpan RunLease { get; set; } = DefaultRunLease;

    /// <summary>How often the store is asked for runs made ready elsewhere (other hosts, expired leases). Default <see cref="DefaultPollInterval"/>.</summary>
    [Positive]
    public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

    /// <summary>The timeout of an HTTP task or bridge call. Default <see cref="DefaultHttpTimeout"/>.</summary>
    [Positive]
    public TimeSpan HttpTimeout { get; set; } = DefaultHttpTimeout;

    /// <summary>Finished runs older than this are deleted by the reaper. Default <see cref="DefaultRunRetention"/>.</summary>
    [Positive]
    public TimeSpan RunRetention { get; set; } = DefaultRunRetention;

    /// <summary>How often the reaper runs. Default <see cref="DefaultReaperInterval"/>.</summary>
    [Positive]
    public TimeSpan ReaperInterval { get; set; } = DefaultReaperInterval;

    /// <summary>Runs deleted per reaper statement (a run of the reaper deletes batches until none is left). Default <see cref="DefaultReaperBatchSize"/>.</summary>
    [Between(1, 100_000)]
    public int ReaperBatchSize { get; set; } = DefaultReaperBatchSize;

    /// <summary>
    /// Whether a cron fire missed while no host ran (the first occurrence after the last recorded fire, when it is in
    /// the past at start) starts one run on start. Default true.
    /// </summary>
    public bool RunMissedCronFire { get; set; } = true;

    /// <summary>The largest body the mapped endpoints accept (web run input, bridge resume). Default <see cref="DefaultMaxRequestBodyBytes"/>.</summary>
    [Between(1, 16 * 1024 * 1024)]
    public int MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;

    /// <summary>
    /// The address bridges are told to resume runs at (<c>responseURL</c> = this + <c>runs/{id}</c>), for example
    /// <c>http://127.0.0.1:6688/v2/</c>. Not sent when null.
    /// </summary>
    public Uri? ResponseBaseUrl { get; set; }

    /// <summary>This host's name as the owner of the runs it executes; a unique one when null.</summary>
    public string? HostId { get; set; }

    internal static IEnumerable<(string Member, string Error)> Rules(LoopJobsOptions options)
    {
        if (options.HttpTimeout >= options.RunLease)
        {
            yield return (nameof(RunLease), $"must be longer than HttpTimeout ({options.HttpTimeout}), so a run is not taken over while its HTTP task runs (was {options.RunLease})");
        }

        if (options.ResponseBaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            yield return (nameof(ResponseBaseUrl), $"must be an absolute http(s) URL (was {url})");
        }
    }
}

[OptionsValidator]
internal sealed partial class LoopJobsOptionsValidator : IValidateOptions<LoopJobsOptions>;
