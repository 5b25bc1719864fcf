using Microsoft.Extensions.Logging;

namespace Loop.Plugins;

/// <summary>
/// The lowest level the host logs a plugin's lines at, passed to the plugin in <see cref="Variable"/> (hclog's names:
/// trace, debug, info, warn, error, off), so that a .NET plugin sends Debug and Trace lines only when the host shows
/// them. Go plugins ignore the variable.
/// </summary>
public static class PluginLogLevel
{
    /// <summary>The environment variable the host sets for each plugin it launches.</summary>
    public const string Variable = "LOOP_PLUGIN_LOG_LEVEL";

    /// <summary>The lowest level <paramref name="logger"/> has enabled, as hclog names it ("off" when none).</summary>
    public static string For(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        for (var level = LogLevel.Trace; level < LogLevel.None; level++)
        {
            if (logger.IsEnabled(level))
            {
                return HclogLoggerProvider.LevelName(level);
            }
        }

        return "off";
    }

    /// <summary>The level a plugin logs at: from <paramref name="value"/> (any case), else Information.</summary>
    public static LogLevel Parse(string? value) => HclogLoggerProvider.TryParseLevel(value, out var level) ? level : LogLevel.Information;
}
