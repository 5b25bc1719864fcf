using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Loop.DurableEmitter.Tests;

/// <summary>A private meter factory per test, so metric assertions never see another test's emitter.</summary>
public sealed class TestMeters : IDisposable
{
    private readonly ServiceProvider _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public IMeterFactory Factory => _provider.GetRequiredService<IMeterFactory>();

    public MetricCollector<long> Collect(string instrument) => new(Factory, DurableEventEmitter.MeterName, instrument);

    public void Dispose() => _provider.Dispose();
}

public static class MetricCollectorExtensions
{
    public static long Total(this MetricCollector<long> collector) => collector.GetMeasurementSnapshot().Sum(m => m.Value);
}
