using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.Plugins;

/// <summary>Options of <c>AddLoopPlugins</c>: the Prometheus port pool and the tracing settings every plugin gets.</summary>
public sealed class LoopPluginsOptions
{
    /// <summary>The lowest Prometheus port handed to a plugin.</summary>
    /// <value>1024 to 65535. Default <see cref="PluginPorts.PrometheusFirst"/> (25001, just above the TCP plugins' gRPC range).</value>
    [Between(1024, 65_535)]
    public int FirstPort { get; set; } = PluginPorts.PrometheusFirst;

    /// <summary>The highest Prometheus port handed to a plugin.</summary>
    /// <value>1024 to 65535, at least <see cref="FirstPort"/>. Default <see cref="PluginPorts.PrometheusLast"/> (30000).</value>
    [Between(1024, 65_535)]
    public int LastPort { get; set; } = PluginPorts.PrometheusLast;

    /// <summary>The tracing settings every plugin gets.</summary>
    /// <value>Default: tracing off (a fresh instance per options object, so binding one never changes another).</value>
    [ValidateObjectMembers]
    public LoopTracingConfig Tracing { get; set; } = new();

    /// <summary>The rules across properties.</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(LoopPluginsOptions options)
    {
        if (options.LastPort < options.FirstPort)
        {
            yield return (nameof(LastPort), $"must not be below FirstPort ({options.FirstPort}) (was {options.LastPort})");
        }
    }
}

/// <summary>The generated DataAnnotations validator of <see cref="LoopPluginsOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class LoopPluginsOptionsValidator : IValidateOptions<LoopPluginsOptions>;
