namespace Loop.Plugins;

/// <summary>Tracing settings for a plugin process (<c>CL_TRACING_*</c>).</summary>
public sealed record LoopTracingConfig
{
    /// <summary>Tracing off.</summary>
    public static LoopTracingConfig Disabled { get; } = new();

    /// <summary>Whether the plugin exports traces.</summary>
    public bool Enabled { get; init; }

    /// <summary>The OTLP collector target (host:port or URI).</summary>
    public string? CollectorTarget { get; init; }

    /// <summary>The fraction of root traces sampled, 0 to 1.</summary>
    public double SamplingRatio { get; init; }

    /// <summary>A TLS certificate file for the collector connection; insecure when null.</summary>
    public string? TlsCertPath { get; init; }

    /// <summary>Resource attributes added to every span.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
