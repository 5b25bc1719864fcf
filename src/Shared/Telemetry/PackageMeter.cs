using System.Diagnostics.Metrics;

namespace Loop.Telemetry;

/// <summary>
/// A package's <see cref="System.Diagnostics.Metrics.Meter"/>: created by the host's <see cref="IMeterFactory"/> when
/// there is one (the factory owns it), else a private meter that this object disposes.
/// </summary>
internal sealed class PackageMeter : IDisposable
{
    private readonly bool _owned;

    /// <summary>Creates the meter named <paramref name="name"/>.</summary>
    public PackageMeter(string name, IMeterFactory? factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Meter = factory?.Create(new MeterOptions(name)) ?? new Meter(name);
        _owned = factory is null;
    }

    /// <summary>The meter to create instruments on.</summary>
    public Meter Meter { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_owned)
        {
            Meter.Dispose();
        }
    }
}
