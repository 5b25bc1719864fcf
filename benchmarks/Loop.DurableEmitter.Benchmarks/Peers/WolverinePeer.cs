using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Postgresql;
using Wolverine.Transports.SharedMemory;
using Wolverine.Transports.Tcp;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>
/// WolverineFx's durable messaging on PostgreSQL message storage, one of two ways: a durable local queue (each event
/// stored in Wolverine's envelope table before the call returns, handed to an in-process handler, the sink, and marked
/// handled), or its durable outbox to its own TCP transport on a loopback port that the same host listens on (each
/// event stored in the outgoing table before the call returns, sent, deleted once sent, and handled by the sink on
/// arrival). Wolverine's defaults otherwise.
/// </summary>
internal sealed class WolverinePeer(IHost host) : IOutboxPeer
{
    private static long _handled;
    private readonly IMessageBus _bus = host.Services.GetRequiredService<IMessageBus>();

    public long? Delivered => Interlocked.Read(ref _handled);

    internal static void Handled() => Interlocked.Increment(ref _handled);

    public static async Task<WolverinePeer> StartAsync(string connectionString, WolverineShape shape)
    {
        Interlocked.Exchange(ref _handled, 0);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseWolverine(opts =>
        {
            opts.PersistMessagesWithPostgresql(connectionString, $"wolverine_{Guid.NewGuid():N}"[..24]);
            switch (shape)
            {
                case WolverineShape.OutboxToSharedMemory:
                    // Its in-process transport: the outbox's sender hands each envelope to a subscription in memory.
                    var topic = $"bench-{Guid.NewGuid():N}";
                    opts.PublishMessage<WolverineBenchEvent>().ToSharedMemoryTopic(topic).UseDurableOutbox();
                    opts.ListenToSharedMemorySubscription(topic, "sink");
                    break;
                case WolverineShape.OutboxToTcp:
                    var port = Loop.Testing.FreePort.Next();
                    opts.ListenAtPort(port);
                    opts.PublishMessage<WolverineBenchEvent>().ToPort(port).UseDurableOutbox();
                    break;
                default:
                    opts.Policies.UseDurableLocalQueues();
                    break;
            }

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

/// <summary>How Wolverine stores and delivers in a case.</summary>
internal enum WolverineShape
{
    /// <summary>Stored in its incoming envelope table, handled from a durable local queue, marked handled.</summary>
    DurableLocalQueue,

    /// <summary>Stored in its outgoing table, sent through its in-process shared-memory transport, deleted once sent.</summary>
    OutboxToSharedMemory,

    /// <summary>Stored in its outgoing table, sent over its TCP transport to a loopback port, deleted once sent.</summary>
    OutboxToTcp,
}

/// <summary>The event Wolverine carries (its handlers are found by type: a public top-level type).</summary>
public sealed record WolverineBenchEvent(byte[] Body);

/// <summary>The sink: counts each event handled.</summary>
public sealed class WolverineSinkHandler
{
    public void Handle(WolverineBenchEvent message) => WolverinePeer.Handled();
}
