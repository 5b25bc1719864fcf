using System.Text;
using Loop.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Tests.Faults;

/// <summary>An emitter on a real PostgreSQL table delivering to a real loopback ingress, on a fake clock for its loops.</summary>
public sealed class PgIngressHarness : IAsyncDisposable
{
    public PgIngressHarness(NpgsqlDataSource dataSource, TestIngress ingress, string? table = null, Action<DurableEmitterOptions>? configure = null, FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        Table = table ?? PostgresFixture.UniqueTable();
        Store = new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = Table }, Time);
        Options = new DurableEmitterOptions { InsertBatchFlushInterval = TimeSpan.Zero, MarkDeliveredFlushInterval = TimeSpan.Zero };
        configure?.Invoke(Options);

        // The transport's batch age and deadlines run on real time: they measure the network, not the test's clock.
        Transport = new GrpcBatchEmitter(new GrpcIngressOptions
        {
            Endpoint = ingress.Endpoint,
            BatchInterval = TimeSpan.FromMilliseconds(2),
            PublishTimeout = TimeSpan.FromSeconds(5),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        Emitter = new DurableEventEmitter(Store, Transport, Options, timeProvider: Time, meterFactory: Meters.Factory);
    }

    public FakeTimeProvider Time { get; }

    public string Table { get; }

    public PgDurableEventStore Store { get; }

    public DurableEmitterOptions Options { get; }

    public GrpcBatchEmitter Transport { get; }

    public DurableEventEmitter Emitter { get; }

    public TestMeters Meters { get; } = new();

    public static EventAttributes Attributes => new() { Source = "fault-tests", Type = "test.fault" };

    public ValueTask<EmitReceipt> EmitAsync(string body, CancellationToken cancellationToken = default) =>
        Emitter.EmitAsync(Encoding.UTF8.GetBytes(body), Attributes, cancellationToken);

    /// <summary>Moves the clock past RetransmitAfter, so everything stored so far is due for retransmit.</summary>
    public void MakeEverythingDue() => Time.Advance(Options.RetransmitAfter + Options.RetransmitInterval);

    public Task<int> PendingAsync() => Store.CountPendingAsync(Time);

    public async ValueTask DisposeAsync()
    {
        await Emitter.StopAsync();
        await Transport.DisposeAsync();
        Meters.Dispose();
    }
}
