using System.Globalization;
using Loop.Plugins;
using Loop.Sample.V1;
using Microsoft.Extensions.Options;

namespace Loop.Demo;

/// <summary>
/// Calls the sample plugin's Echo now and then through its supervised channel, as an application would: the reply is
/// logged and the plugin's call counter shows on <c>/plugins/sample/metrics</c>.
/// </summary>
public sealed partial class PluginCaller(
    [FromKeyedServices("sample")] PluginService plugin, IOptions<DemoOptions> options, TimeProvider time, ILogger<PluginCaller> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PluginCallInterval, time);
        var n = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            n++;
            try
            {
                // Waits while the plugin is (re)starting; a call on a channel that just died fails and is retried next tick.
                var client = await plugin.WaitAsync(stoppingToken);
                var reply = await new Echo.EchoClient(client.Channel).SayAsync(
                    new EchoRequest { Text = string.Create(CultureInfo.InvariantCulture, $"ping {n}") }, cancellationToken: stoppingToken);
                LogReply(logger, reply.Text, reply.Calls);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCallFailed(logger, ex.Message);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "sample plugin replied \"{Text}\" (its call {Calls})")]
    private static partial void LogReply(ILogger logger, string text, long calls);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "sample plugin call failed: {Reason}")]
    private static partial void LogCallFailed(ILogger logger, string reason);
}
