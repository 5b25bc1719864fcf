using System.ComponentModel.DataAnnotations;

namespace Loop.Plugins;

/// <summary>Tracing settings for a plugin process (<c>CL_TRACING_*</c>).</summary>
public sealed record LoopTracingConfig
{
    /// <summary>Tracing off: a new instance on every read, so that configuration bound into one cannot turn tracing on for others.</summary>
    public static LoopTracingConfig Disabled => new();

    /// <summary>Whether the plugin exports traces.</summary>
    public bool Enabled { get; init; }

    /// <summary>The OTLP collector target (host:port or URI).</summary>
    public string? CollectorTarget { get; init; }

    /// <summary>The fraction of root traces sampled.</summary>
    /// <value>0 to 1. Default 0.</value>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; init; }

    /// <summary>A TLS certificate file for the collector connection; insecure when null.</summary>
    public string? TlsCertPath { get; init; }

    /// <summary>Resource attributes added to every span.</summary>
    /// <value>Default: none (one shared empty read-only dictionary, so default settings compare equal).</value>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;
}
