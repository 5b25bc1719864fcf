using System.Globalization;

namespace Loop.Plugins;

/// <summary>
/// <see cref="LoopEnvConfig"/> ⇄ environment variables, with the upstream names, so Go plugins built on
/// chainlink-common read what a Loop host writes and the reverse.
/// </summary>
public static class LoopEnvironment
{
    /// <summary>The plugin's Prometheus port.</summary>
    public const string PrometheusPort = "CL_PROMETHEUS_PORT";

    /// <summary>Tracing on or off.</summary>
    public const string TracingEnabled = "CL_TRACING_ENABLED";

    /// <summary>The OTLP collector target.</summary>
    public const string TracingCollectorTarget = "CL_TRACING_COLLECTOR_TARGET";

    /// <summary>The trace sampling ratio.</summary>
    public const string TracingSamplingRatio = "CL_TRACING_SAMPLING_RATIO";

    /// <summary>The collector TLS certificate file.</summary>
    public const string TracingTlsCertPath = "CL_TRACING_TLS_CERT_PATH";

    /// <summary>The prefix of one variable per tracing attribute.</summary>
    public const string TracingAttributePrefix = "CL_TRACING_ATTRIBUTE_";

    /// <summary>The variables for <paramref name="config"/>, in a stable order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ToVariables(LoopEnvConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var vars = new List<KeyValuePair<string, string>>
        {
            new(PrometheusPort, config.PrometheusPort.ToString(CultureInfo.InvariantCulture)),
            new(TracingEnabled, config.Tracing.Enabled ? "true" : "false"),
        };
        if (config.Tracing.Enabled)
        {
            vars.Add(new(TracingCollectorTarget, config.Tracing.CollectorTarget ?? string.Empty));
            vars.Add(new(TracingSamplingRatio, config.Tracing.SamplingRatio.ToString("0.################", CultureInfo.InvariantCulture)));
            if (config.Tracing.TlsCertPath is { Length: > 0 } cert)
            {
                vars.Add(new(TracingTlsCertPath, cert));
            }

            foreach (var (key, value) in config.Tracing.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                vars.Add(new(TracingAttributePrefix + key, value));
            }
        }

        return vars;
    }

    /// <summary>Reads a plugin's settings from its environment (the process's own when null).</summary>
    /// <exception cref="LoopEnvironmentException">The Prometheus port is missing or invalid, or a tracing value is invalid.</exception>
    public static LoopEnvConfig Parse(IReadOnlyDictionary<string, string>? environment = null)
    {
        var env = environment ?? ProcessVariables();
        if (!env.TryGetValue(PrometheusPort, out var portText) || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65_535)
        {
            throw new LoopEnvironmentException(PrometheusPort, portText is null ? "is not set" : $"\"{portText}\" is not a port number");
        }

        var tracing = LoopTracingConfig.Disabled;
        if (env.TryGetValue(TracingEnabled, out var enabledText) && ParseBool(TracingEnabled, enabledText))
        {
            var target = env.GetValueOrDefault(TracingCollectorTarget);
            if (target is { Length: > 0 } && !Uri.TryCreate(target.Contains("://", StringComparison.Ordinal) ? target : "grpc://" + target, UriKind.Absolute, out _))
            {
                throw new LoopEnvironmentException(TracingCollectorTarget, $"\"{target}\" is not a URI");
            }

            // As upstream: a bad ratio samples nothing rather than failing the plugin.
            var ratio = double.TryParse(env.GetValueOrDefault(TracingSamplingRatio), NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1 ? r : 0;
            tracing = new LoopTracingConfig
            {
                Enabled = true,
                CollectorTarget = target,
                SamplingRatio = ratio,
                TlsCertPath = env.GetValueOrDefault(TracingTlsCertPath) is { Length: > 0 } cert ? cert : null,
                Attributes = env.Where(e => e.Key.StartsWith(TracingAttributePrefix, StringComparison.Ordinal) && e.Key.Length > TracingAttributePrefix.Length)
                    .ToDictionary(e => e.Key[TracingAttributePrefix.Length..], e => e.Value, StringComparer.Ordinal),
            };
        }

        return new LoopEnvConfig { PrometheusPort = port, Tracing = tracing };
    }

    /// <summary>This process's environment variables.</summary>
    internal static Dictionary<string, string> ProcessVariables()
    {
        // A plain loop: LINQ's ToDictionary over DictionaryEntry (a struct) is generic code ReadyToRun cannot precompile
        // outside the framework, and this runs first in every plugin's start (5.9 ms of a framework-dependent one).
        var variables = System.Environment.GetEnvironmentVariables();
        var copy = new Dictionary<string, string>(variables.Count, StringComparer.Ordinal);
        var entries = variables.GetEnumerator();
        while (entries.MoveNext())
        {
            copy[(string)entries.Key] = (string?)entries.Value ?? string.Empty;
        }

        return copy;
    }

    /// <summary>Go's <c>strconv.ParseBool</c>: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.</summary>
    public static bool ParseBool(string variable, string? text) => text switch
    {
        "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
        "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
        _ => throw new LoopEnvironmentException(variable, $"\"{text}\" is not a boolean"),
    };
}

/// <summary>A plugin's environment variable is missing or invalid.</summary>
public sealed class LoopEnvironmentException(string variable, string problem) : Exception($"{variable} {problem}")
{
    /// <summary>The variable at fault.</summary>
    public string Variable { get; } = variable;
}
