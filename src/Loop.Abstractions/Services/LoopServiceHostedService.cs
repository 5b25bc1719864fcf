using Microsoft.Extensions.Hosting;

namespace Loop.Services;

/// <summary>Runs an <see cref="ILoopService"/> for the lifetime of a .NET host.</summary>
/// <typeparam name="TService">The service type, resolved from dependency injection.</typeparam>
public sealed class LoopServiceHostedService<TService> : IHostedService
    where TService : ILoopService
{
    private readonly TService _service;

    /// <summary>Creates the adapter for <paramref name="service"/>.</summary>
    public LoopServiceHostedService(TService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = service;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => _service.StartAsync(cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => _service.StopAsync(cancellationToken);
}
