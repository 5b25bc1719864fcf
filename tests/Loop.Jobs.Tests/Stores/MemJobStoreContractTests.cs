using Loop.Jobs.Stores.InMemory;

namespace Loop.Jobs.Tests.Stores;

public sealed class MemJobStoreContractTests : JobStoreContractTests
{
    protected override Task<IJobStore> CreateStoreAsync() => Task.FromResult<IJobStore>(new MemJobStore());
}
