using System.Globalization;
using System.Text;
using Loop.DurableEmitter;
using Microsoft.Extensions.Options;

namespace Loop.Demo;

/// <summary>Emits a few events a second through the durable emitter, as an application would.</summary>
public sealed partial class TickProducer(IDurableEventEmitter emitter, IOptions<DemoOptions> options, TimeProvider time, ILogger<TickProducer> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / options.Value.EventsPerSecond), time);
        var n = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            n++;
            try
            {
                var receipt = await emitter.EmitAsync(
                    Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"tick {n}")),
                    new EventAttributes { Source = "loop-demo", Type = "demo.tick", Subject = "tick" },
                    stoppingToken);
                LogEmitted(logger, n, receipt.RowId);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogEmitFailed(logger, n, ex.Message);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "emitted tick {N} (row {RowId})")]
    private static partial void LogEmitted(ILogger logger, int n, long rowId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "emit of tick {N} failed: {Reason}")]
    private static partial void LogEmitFailed(ILogger logger, int n, string reason);
}
