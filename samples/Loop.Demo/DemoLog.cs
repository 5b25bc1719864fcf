namespace Loop.Demo;

/// <summary>The demo host's own log lines.</summary>
internal static partial class DemoLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Loop demo: ingress on {Address}:{IngressPort}, metrics on http://{Address}:{HttpPort}/metrics. Ctrl+C to stop.")]
    public static partial void Started(ILogger logger, string address, int ingressPort, int httpPort);
}
