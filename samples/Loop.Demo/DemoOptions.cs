namespace Loop.Demo;

/// <summary>The demo's settings (section <c>Demo</c>; override with <c>--Demo:HttpPort=…</c>).</summary>
public sealed class DemoOptions
{
    /// <summary>The address every endpoint binds to. Loopback unless you change it.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>HTTP/1.1 port for <c>/metrics</c> and <c>/health</c>.</summary>
    public int HttpPort { get; set; } = 5080;

    /// <summary>HTTP/2 port of the demo's gRPC ingress.</summary>
    public int IngressPort { get; set; } = 5081;

    /// <summary>The sample plugin's executable; found in this repository's build output when empty.</summary>
    public string? PluginPath { get; set; }

    /// <summary>How often the demo calls the sample plugin's Echo.</summary>
    public TimeSpan PluginCallInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Events emitted per second.</summary>
    public double EventsPerSecond { get; set; } = 3;
}
