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

    /// <summary>
    /// An executable run after the old version stopped and before <c>current</c> switches, with the tag and height as
    /// arguments (backups, migrations). A non-zero exit cancels the switch and the old version starts again. Empty: none.
    /// </summary>
    public string PreUpgradeHook { get; init; } = string.Empty;

    /// <summary>
    /// Before switching, run the new version's first binary with <c>version --output json</c> and require
    /// <c>{"version": "&lt;tag&gt;"}</c>, as Vega Visor does. Default false.
    /// </summary>
    public bool CheckBinaryVersion { get; init; }

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

    /// <summary>
    /// A GitHub-releases compatible API base URL (<c>https://api.github.com/repos/&lt;owner&gt;/&lt;repo&gt;</c>): the
    /// release is read from <c>{releaseApiUrl}/releases/tags/{tag}</c>. Empty when <see cref="AssetUrlTemplate"/> is used.
    /// </summary>
    public string ReleaseApiUrl { get; init; } = string.Empty;

    /// <summary>A direct URL template with <c>{tag}</c>, <c>{os}</c> and <c>{arch}</c>, used instead of the API when set.</summary>
    public string AssetUrlTemplate { get; init; } = string.Empty;

    /// <summary>The release asset's name (<c>{os}</c> and <c>{arch}</c> substituted).</summary>
    public string AssetName { get; init; } = string.Empty;

    /// <summary>The binary inside the asset; empty when the asset is the binary.</summary>
    public string BinaryName { get; init; } = string.Empty;

    /// <summary>
    /// Where the expected SHA-256 comes from: <c>sha256:&lt;hex&gt;</c>, the name of a release asset, or a URL template
    /// (<c>{tag}</c>, <c>{os}</c>, <c>{arch}</c>) of a file in <c>sha256sum</c> format (<c>&lt;hex&gt;  &lt;file name&gt;</c> lines,
    /// or one bare hash).
    /// </summary>
    public string Checksum { get; init; } = string.Empty;

    /// <summary>Install without a checksum. Unsafe: anyone who can answer for the release source chooses the binary.</summary>
    public bool UnsafeAllowMissingChecksum { get; init; }
}
