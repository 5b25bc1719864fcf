using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.Plugins;

/// <summary>How a <see cref="PluginService"/> keeps its plugin alive. Bound from a plugin's configuration section by <c>AddLoopPlugin(name, section, handshake)</c>.</summary>
public sealed class PluginServiceOptions
{
    /// <summary>The default of <see cref="KeepAliveInterval"/>: 5 s.</summary>
    public static readonly TimeSpan DefaultKeepAliveInterval = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="HealthTimeout"/>: 1 s.</summary>
    public static readonly TimeSpan DefaultHealthTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The default of <see cref="RelaunchBackoff"/>: 100 ms.</summary>
    public static readonly TimeSpan DefaultRelaunchBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>The default of <see cref="MaxRelaunchBackoff"/>: 5 s.</summary>
    public static readonly TimeSpan DefaultMaxRelaunchBackoff = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="UnhealthyThreshold"/>: 3.</summary>
    public const int DefaultUnhealthyThreshold = 3;

    /// <summary>How often the plugin's health is checked after the first check (done at once).</summary>
    /// <value>Positive. Default <see cref="DefaultKeepAliveInterval"/> (5 s).</value>
    [Positive]
    public TimeSpan KeepAliveInterval { get; set; } = DefaultKeepAliveInterval;

    /// <summary>The deadline of one health check.</summary>
    /// <value>Positive. Default <see cref="DefaultHealthTimeout"/> (1 s).</value>
    [Positive]
    public TimeSpan HealthTimeout { get; set; } = DefaultHealthTimeout;

    /// <summary>
    /// The first wait after a failed launch, and before the second of two relaunches in a row of a plugin that did not
    /// stay up for <see cref="MaxRelaunchBackoff"/>; it doubles up to <see cref="MaxRelaunchBackoff"/>.
    /// </summary>
    /// <value>Positive, at most <see cref="MaxRelaunchBackoff"/>. Default <see cref="DefaultRelaunchBackoff"/> (100 ms).</value>
    [Positive]
    public TimeSpan RelaunchBackoff { get; set; } = DefaultRelaunchBackoff;

    /// <summary>The longest wait between failed launches.</summary>
    /// <value>Positive. Default <see cref="DefaultMaxRelaunchBackoff"/> (5 s).</value>
    [Positive]
    public TimeSpan MaxRelaunchBackoff { get; set; } = DefaultMaxRelaunchBackoff;

    /// <summary>
    /// How many health checks in a row a running plugin must fail before it is relaunched. One slow answer on a loaded
    /// machine is not a dead plugin, and relaunching it adds the load that fails the next check. A plugin that exited
    /// is relaunched at once.
    /// </summary>
    /// <value>Positive. Default <see cref="DefaultUnhealthyThreshold"/> (3).</value>
    [Positive]
    public int UnhealthyThreshold { get; set; } = DefaultUnhealthyThreshold;

    /// <summary>Launch and kill settings.</summary>
    [ValidateObjectMembers]
    public PluginClientOptions Client { get; set; } = new();

    /// <summary>The rules across properties (the single-property ones are attributes).</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(PluginServiceOptions options)
    {
        if (options.RelaunchBackoff > options.MaxRelaunchBackoff)
        {
            yield return (nameof(RelaunchBackoff), $"must not be above MaxRelaunchBackoff ({options.MaxRelaunchBackoff}) (was {options.RelaunchBackoff})");
        }

        if (options.Client is { } client)
        {
            foreach (var (member, error) in PluginClientOptions.Rules(client))
            {
                yield return ($"{nameof(Client)}.{member}", error);
            }
        }
    }
}

/// <summary>The generated DataAnnotations validator of <see cref="PluginServiceOptions"/> (nested client options included).</summary>
[OptionsValidator]
internal sealed partial class PluginServiceOptionsValidator : IValidateOptions<PluginServiceOptions>;
