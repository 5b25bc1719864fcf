using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Loop.Visor;

/// <summary>Runs <see cref="VisorService"/> for the lifetime of a .NET host; the host's stop stops the children gracefully.</summary>
internal sealed class VisorHostedService(
    IOptions<VisorHostOptions> options,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory,
    TimeProvider timeProvider,
    IEnumerable<IUpgradeSource> upgradeSources,
    IMeterFactory? meterFactory = null) : BackgroundService
{
    /// <summary>How the last run ended.</summary>
    public int? ExitCode { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var visor = new VisorService(
            new VisorHome(options.Value.Home!), options.Value.Service, upgradeSources, loggerFactory, timeProvider, meterFactory);
        ExitCode = await visor.RunAsync(stoppingToken).ConfigureAwait(false);
        if (!stoppingToken.IsCancellationRequested && options.Value.StopHostWhenVisorExits)
        {
            Environment.ExitCode = ExitCode.Value;
            lifetime.StopApplication();
        }
    }
}
