using System.Globalization;
using System.Text;
using Loop.Visor.Configuration;

namespace Loop.Visor;

/// <summary>Reads and writes <c>config.toml</c>.</summary>
public static class VisorConfigFile
{
    /// <summary>The file name in the home folder.</summary>
    public const string FileName = "config.toml";

    /// <summary>Loads and validates a config file; missing keys take their defaults.</summary>
    /// <exception cref="VisorConfigException">A syntax error, an unknown key or a bad value; the message names file, line and key.</exception>
    public static VisorConfig Load(string path) => Read(TomlDocument.Load(path));

    /// <summary>Parses config text (<paramref name="file"/> names it in errors).</summary>
    public static VisorConfig Parse(string file, string text) => Read(TomlDocument.Parse(file, text));

    /// <summary>Renders a config with every key written out.</summary>
    public static string Render(VisorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var b = new StringBuilder();
        b.AppendLine("# Loop Visor configuration. Every key is shown with its value; a missing key takes its default.");
        b.AppendLine("# Edits are picked up while Visor runs; an invalid edit is reported and the previous values stay.");
        Line(b, "maxNumberOfFirstConnectionRetries", config.MaxNumberOfFirstConnectionRetries);
        Line(b, "maxNumberOfRestartConnectionRetries", config.MaxNumberOfRestartConnectionRetries);
        Line(b, "maxNumberOfRestarts", config.MaxNumberOfRestarts);
        Line(b, "restartsDelaySeconds", config.RestartsDelaySeconds);
        Line(b, "restartBackoffMultiplier", config.RestartBackoffMultiplier.ToString("0.0##", CultureInfo.InvariantCulture));
        Line(b, "maxRestartDelaySeconds", config.MaxRestartDelaySeconds);
        Line(b, "restartCounterResetSeconds", config.RestartCounterResetSeconds);
        Line(b, "stopDelaySeconds", config.StopDelaySeconds);
        Line(b, "stopSignalTimeoutSeconds", config.StopSignalTimeoutSeconds);
        Line(b, "upgradeRollbackWindowSeconds", config.UpgradeRollbackWindowSeconds);
        Line(b, "upgradeInfoPath", Quote(config.UpgradeInfoPath));
        Line(b, "preUpgradeHook", Quote(config.PreUpgradeHook));
        Line(b, "checkBinaryVersion", config.CheckBinaryVersion ? "true" : "false");
        b.AppendLine();
        b.AppendLine("# Release tag = folder (relative to the home folder, or absolute). Unmapped tags use <home>/<tag>.");
        b.AppendLine("[upgradeFolders]");
        foreach (var (tag, folder) in config.UpgradeFolders)
        {
            Line(b, Quote(tag), Quote(folder));
        }

        var a = config.AutoInstall;
        b.AppendLine();
        b.AppendLine("[autoInstall]");
        Line(b, "enabled", a.Enabled ? "true" : "false");
        Line(b, "releaseApiUrl", Quote(a.ReleaseApiUrl));
        Line(b, "assetUrlTemplate", Quote(a.AssetUrlTemplate));
        Line(b, "assetName", Quote(a.AssetName));
        Line(b, "binaryName", Quote(a.BinaryName));
        Line(b, "checksum", Quote(a.Checksum));
        Line(b, "unsafeAllowMissingChecksum", a.UnsafeAllowMissingChecksum ? "true" : "false");
        return b.ToString();

        static void Line(StringBuilder b, string key, object value) => b.Append(key).Append(" = ").Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Whether <paramref name="value"/> is an absolute http or https URL with a host.</summary>
    internal static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;

    internal static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static VisorConfig Read(TomlDocument doc)
    {
        var d = new VisorConfig();
        var folders = doc.StringTable("upgradeFolders");
        foreach (var (tag, _) in folders)
        {
            if (ReleaseTag.Validate(tag) is { } problem)
            {
                throw doc.Bad($"upgradeFolders.{tag}", doc.LineOf("upgradeFolders", tag), problem);
            }
        }

        var checksumRequired = !doc.Boolean("autoInstall.unsafeAllowMissingChecksum", false);
        var config = new VisorConfig
        {
            MaxNumberOfFirstConnectionRetries = (int)doc.Integer("maxNumberOfFirstConnectionRetries", d.MaxNumberOfFirstConnectionRetries, 0, int.MaxValue),
            MaxNumberOfRestartConnectionRetries = (int)doc.Integer("maxNumberOfRestartConnectionRetries", d.MaxNumberOfRestartConnectionRetries, 0, int.MaxValue),
            MaxNumberOfRestarts = (int)doc.Integer("maxNumberOfRestarts", d.MaxNumberOfRestarts, 0, int.MaxValue),
            RestartsDelaySeconds = (int)doc.Integer("restartsDelaySeconds", d.RestartsDelaySeconds, 0, 86_400),
            RestartBackoffMultiplier = doc.Float("restartBackoffMultiplier", d.RestartBackoffMultiplier, 1, 100),
            MaxRestartDelaySeconds = (int)doc.Integer("maxRestartDelaySeconds", d.MaxRestartDelaySeconds, 0, 86_400),
            RestartCounterResetSeconds = (int)doc.Integer("restartCounterResetSeconds", d.RestartCounterResetSeconds, 0, int.MaxValue),
            StopDelaySeconds = (int)doc.Integer("stopDelaySeconds", d.StopDelaySeconds, 0, 3_600),
            StopSignalTimeoutSeconds = (int)doc.Integer("stopSignalTimeoutSeconds", d.StopSignalTimeoutSeconds, 0, 3_600),
            UpgradeRollbackWindowSeconds = (int)doc.Integer("upgradeRollbackWindowSeconds", d.UpgradeRollbackWindowSeconds, 0, 86_400),
            UpgradeInfoPath = doc.String("upgradeInfoPath", d.UpgradeInfoPath)!,
            PreUpgradeHook = doc.String("preUpgradeHook", d.PreUpgradeHook)!,
            CheckBinaryVersion = doc.Boolean("checkBinaryVersion", d.CheckBinaryVersion),
            UpgradeFolders = folders,
            AutoInstall = new AutoInstallConfig
            {
                Enabled = doc.Boolean("autoInstall.enabled", false),
                ReleaseApiUrl = doc.String("autoInstall.releaseApiUrl", string.Empty)!,
                AssetUrlTemplate = doc.String("autoInstall.assetUrlTemplate", string.Empty)!,
                AssetName = doc.String("autoInstall.assetName", string.Empty)!,
                BinaryName = doc.String("autoInstall.binaryName", string.Empty)!,
                Checksum = doc.String("autoInstall.checksum", string.Empty)!,
                UnsafeAllowMissingChecksum = !checksumRequired,
            },
        };
        doc.EnsureAllRead();
        if (config.AutoInstall.Enabled && config.AutoInstall.ReleaseApiUrl.Length == 0 && config.AutoInstall.AssetUrlTemplate.Length == 0)
        {
            throw doc.Bad("autoInstall.releaseApiUrl", doc.LineOf("autoInstall", "enabled"), "auto install needs releaseApiUrl or assetUrlTemplate");
        }

        if (config.AutoInstall.Enabled && config.AutoInstall.ReleaseApiUrl.Length > 0 && config.AutoInstall.AssetName.Length == 0)
        {
            throw doc.Bad("autoInstall.assetName", doc.LineOf("autoInstall", "enabled"), "auto install from a release API needs assetName");
        }

        foreach (var (key, template) in new[] { ("releaseApiUrl", config.AutoInstall.ReleaseApiUrl), ("assetUrlTemplate", config.AutoInstall.AssetUrlTemplate) })
        {
            var sample = template.Replace("{tag}", "v1", StringComparison.Ordinal).Replace("{os}", "linux", StringComparison.Ordinal).Replace("{arch}", "amd64", StringComparison.Ordinal);
            if (template.Length > 0 && !IsHttpUrl(sample))
            {
                throw doc.Bad($"autoInstall.{key}", doc.LineOf("autoInstall", key), $"\"{template}\" is not an http:// or https:// URL with a host");
            }
        }

        if (config.AutoInstall.Enabled && config.AutoInstall.Checksum.Length == 0 && checksumRequired)
        {
            throw doc.Bad("autoInstall.checksum", doc.LineOf("autoInstall", "enabled"), "auto install needs a checksum (or unsafeAllowMissingChecksum = true)");
        }

        return config;
    }
}
