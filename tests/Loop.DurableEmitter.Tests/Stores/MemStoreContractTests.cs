using Loop.Events;

namespace Loop.DurableEmitter.Tests.Stores;

public sealed class MemStoreContractTests : StoreContractTests
{
    protected override Task<IDurableEventStore> CreateStoreAsync() => Task.FromResult<IDurableEventStore>(new MemDurableEventStore(Time));
}
