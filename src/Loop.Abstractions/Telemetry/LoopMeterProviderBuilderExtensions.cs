using Loop.Telemetry;

namespace OpenTelemetry.Metrics;

/// <summary>Adds the Loop packages' instruments to an OpenTelemetry meter provider.</summary>
public static class LoopMeterProviderBuilderExtensions
{
    /// <summary>
    /// Listens to every Loop package's meter (<see cref="LoopMeters.All"/>), so one call covers the emitter, the plugins,
    /// the visor and the jobs, whichever the application uses:
    /// <c>services.AddOpenTelemetry().WithMetrics(m =&gt; m.AddLoopInstrumentation().AddPrometheusExporter())</c>.
    /// </summary>
    public static MeterProviderBuilder AddLoopInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter([.. LoopMeters.All]);
    }
}
