using Loop.Events;
using Loop.Events.CloudEvents;
using Microsoft.Extensions.Time.Testing;

namespace Loop.DurableEmitter.Tests;

/// <summary>An emitter on a memory store and an in-memory transport whose subscriber a test controls, on a fake clock.</summary>
public sealed class EmitterHarness : IAsyncDisposable
{
    private readonly List<CloudEvent> _delivered = [];

    public EmitterHarness(Action<DurableEmitterOptions>? configure = null, IDurableEventStore? store = null, int bufferSize = 10_000)
    {
        Store = store ?? new MemDurableEventStore(Time);
        Options = new DurableEmitterOptions
        {
            // Zero lingers: with a fake clock a linger would wait for a clock nobody advances.
            InsertBatchFlushInterval = TimeSpan.Zero,
            MarkDeliveredFlushInterval = TimeSpan.Zero,
        };
        configure?.Invoke(Options);
        Transport = new InMemoryBatchEmitter(
            async (batch, ct) =>
            {
                if (Subscriber is { } subscriber)
                {
                    await subscriber(batch, ct);
                }

                lock (_delivered)
                {
                    _delivered.AddRange(batch);
                }
            },
            new BatchingOptions { BatchInterval = TimeSpan.Zero, BufferSize = bufferSize, BatchSize = Math.Min(50, bufferSize) },
            Time);
        Emitter = new DurableEventEmitter(Store, Transport, Options, timeProvider: Time, meterFactory: Meters.Factory);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public TestMeters Meters { get; } = new();

    public IDurableEventStore Store { get; }

    public DurableEmitterOptions Options { get; }

    public InMemoryBatchEmitter Transport { get; }

    public DurableEventEmitter Emitter { get; }

    /// <summary>Runs before a batch counts as delivered; throw to fail the batch.</summary>
    public Func<IReadOnlyList<CloudEvent>, CancellationToken, ValueTask>? Subscriber { get; set; }

    public IReadOnlyList<CloudEvent> Delivered
    {
        get
        {
            lock (_delivered)
            {
                return [.. _delivered];
            }
        }
    }

    public static EventAttributes Attributes(string type = "test.event") => new() { Source = "tests", Type = type };

    public Task<EmitReceipt> EmitAsync(string body) => Emitter.EmitAsync(System.Text.Encoding.UTF8.GetBytes(body), Attributes()).AsTask();

    public Task<int> PendingAsync() => Store.CountPendingAsync(Time);

    public async ValueTask DisposeAsync()
    {
        await Emitter.StopAsync();
        await Transport.DisposeAsync();
        Meters.Dispose();
    }
}
