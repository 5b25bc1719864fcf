namespace Loop.Visor;

/// <summary>
/// Visor's <c>config.toml</c>. Every key has a default, and missing keys take it (unlike Vega Visor, where a missing
/// key became zero). Keys and defaults follow Vega Visor; the restart backoff, the stable-period reset and the
/// rollback window are Loop's additions.
/// </summary>
public sealed record VisorConfig
{
    /// <summary>Upgrade-status calls that may fail before the first successful start. Default 175,000 (≈ 97 h at 2 s).</summary>
    public int MaxNumberOfFirstConnectionRetries { get; init; } = 175_000;

    /// <summary>Upgrade-status calls that may fail after a crash restart. Default 10.</summary>
    public int MaxNumberOfRestartConnectionRetries { get; init; } = 10;

    /// <summary>Crash restarts allowed before Visor gives up and exits non-zero. Default 3.</summary>
    public int MaxNumberOfRestarts { get; init; } = 3;

    /// <summary>Wait before a crash restart. Default 5 s.</summary>
    public int RestartsDelaySeconds { get; init; } = 5;

    /// <summary>Multiply the restart delay by this after each consecutive crash (1 = constant). Default 1.</summary>
    public double RestartBackoffMultiplier { get; init; } = 1;

    /// <summary>The longest restart delay with backoff. Default 300 s.</summary>
    public int MaxRestartDelaySeconds { get; init; } = 300;

    /// <summary>After running this long without a crash, the restart counter resets. 0 = never. Default 600 s.</summary>
    public int RestartCounterResetSeconds { get; init; } = 600;

    /// <summary>Wait before SIGTERM when stopping for an upgrade. Default 0.</summary>
    public int StopDelaySeconds { get; init; }

    /// <summary>Wait after SIGTERM before SIGKILL. Default 15 s.</summary>
    public int StopSignalTimeoutSeconds { get; init; } = 15;

    /// <summary>A new version that exits within this window after an upgrade is rolled back. 0 = no rollback. Default 30 s.</summary>
    public int UpgradeRollbackWindowSeconds { get; init; } = 30;

    /// <summary>The cosmovisor-style upgrade file, relative to the home folder. Default <c>data/upgrade-info.json</c>.</summary>
    public string UpgradeInfoPath { get; init; } = "data/upgrade-info.json";

    /// <summary>Release tag → folder (relative to home, or absolute). An unmapped tag uses <c>home/&lt;tag&gt;</c>.</summary>
    public IReadOnlyDictionary<string, string> UpgradeFolders { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Automatic installation of missing versions.</summary>
    public AutoInstallConfig AutoInstall { get; init; } = new();
}

/// <summary>The <c>[autoInstall]</c> section.</summary>
public sealed record AutoInstallConfig
{
    /// <summary>Download a missing version at upgrade time. Default false.</summary>
    public bool Enabled { get; init; }

    /// <summary>A GitHub-releases compatible API base URL (<c>…/repos/&lt;owner&gt;/&lt;repo&gt;</c>), or empty.</summary>
    public string ReleaseApiUrl { get; init; } = string.Empty;

    /// <summary>A direct URL template with <c>{tag}</c>, <c>{os}</c> and <c>{arch}</c>, used instead of the API when set.</summary>
    public string AssetUrlTemplate { get; init; } = string.Empty;

    /// <summary>The release asset's name (<c>{os}</c> and <c>{arch}</c> substituted).</summary>
    public string AssetName { get; init; } = string.Empty;

    /// <summary>The binary inside the asset; empty when the asset is the binary.</summary>
    public string BinaryName { get; init; } = string.Empty;

    /// <summary>The checksum asset's name (<c>sha256sum</c> format), or a fixed <c>sha256:&lt;hex&gt;</c>.</summary>
    public string Checksum { get; init; } = string.Empty;

    /// <summary>Install without a checksum. Unsafe: anyone who can answer for the release source chooses the binary.</summary>
    public bool UnsafeAllowMissingChecksum { get; init; }
}
