using System.Collections.Concurrent;
using Loop.Events.CloudEvents;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Transport;

/// <summary>The send-deadline check of a batch: every event is either sent or handed back, decided at one instant.</summary>
public sealed class BatchingEmitterLeaseTests
{
    /// <summary>A clock that moves a second each time it is read: any check that reads it twice sees two instants.</summary>
    private sealed class TickingClock : TimeProvider
    {
        private long _ticks = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero).UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }

    private static CloudEvent Event(string id) => new() { Id = id, Source = "s", Type = "t", SpecVersion = "1.0" };

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Every_event_of_a_batch_with_a_late_one_gets_its_outcome(int secondsForTheSecond)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var transport = new InMemoryBatchEmitter(
            async (_, _) => await release.Task,
            new BatchingOptions { BatchSize = 2, BatchInterval = TimeSpan.FromMinutes(1), MaxConcurrentSends = 1 },
            new TickingClock());
        await transport.StartAsync();
        var outcomes = new ConcurrentDictionary<string, Exception?>();

        transport.TryQueue(Event("late"), TimeSpan.FromMilliseconds(500), e => outcomes["late"] = e);
        transport.TryQueue(Event("other"), TimeSpan.FromSeconds(secondsForTheSecond), e => outcomes["other"] = e);
        release.SetResult();

        await Eventually.WaitAsync(() => outcomes.Count == 2, "an outcome for each event of the batch");
        outcomes["late"].Should().BeOfType<DeliveryLeaseEndedException>();
    }
}
