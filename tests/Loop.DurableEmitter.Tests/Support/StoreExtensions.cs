using Loop.Events;

namespace Loop.DurableEmitter.Tests;

public static class StoreExtensions
{
    /// <summary>How many events are pending, whatever their age.</summary>
    public static async Task<int> CountPendingAsync(this IDurableEventStore store, TimeProvider time) =>
        (await store.ListPendingAsync(time.GetUtcNow() + TimeSpan.FromDays(1), null, 1_000_000)).Count;
}
