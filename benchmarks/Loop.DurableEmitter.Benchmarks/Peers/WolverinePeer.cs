using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Postgresql;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>
/// WolverineFx's durable messaging on PostgreSQL message storage: each event published to a durable local queue is
/// stored in Wolverine's envelope table before the call returns, handed to an in-process handler (the sink), and marked
/// handled in its table. Wolverine's defaults otherwise.
/// </summary>
internal sealed class WolverinePeer(IHost host) : IOutboxPeer
{
    private static long _handled;
    private readonly IMessageBus _bus = host.Services.GetRequiredService<IMessageBus>();

    public long Delivered => Interlocked.Read(ref _handled);

    internal static void Handled() => Interlocked.Increment(ref _handled);

    public static async Task<WolverinePeer> StartAsync(string connectionString)
    {
        Interlocked.Exchange(ref _handled, 0);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseWolverine(opts =>
        {
            opts.PersistMessagesWithPostgresql(connectionString, $"wolverine_{Guid.NewGuid():N}"[..24]);
            opts.Policies.UseDurableLocalQueues();
            opts.Discovery.DisableConventionalDiscovery().IncludeType<WolverineSinkHandler>();
        });
        var host = builder.Build();
        await host.StartAsync();
        return new WolverinePeer(host);
    }

    public Task PublishAsync(byte[] body) => _bus.PublishAsync(new WolverineBenchEvent(body)).AsTask();

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}

/// <summary>The event Wolverine carries (its handlers are found by type: a public top-level type).</summary>
public sealed record WolverineBenchEvent(byte[] Body);

/// <summary>The sink: counts each event handled.</summary>
public sealed class WolverineSinkHandler
{
    public void Handle(WolverineBenchEvent message) => WolverinePeer.Handled();
}
