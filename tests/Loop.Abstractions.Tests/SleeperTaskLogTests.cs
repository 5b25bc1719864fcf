using Loop.Services;
using Microsoft.Extensions.Logging.Testing;

namespace Loop.Abstractions.Tests;

/// <summary>SleeperTask logs on its owner's logger: its event id must not be one a package uses for its own messages.</summary>
public sealed class SleeperTaskLogTests
{
    [Fact]
    public async Task A_failed_run_is_logged_under_an_id_no_package_uses()
    {
        var logs = new FakeLogCollector();
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sleeper = new SleeperTask("failing", _ =>
        {
            failed.TrySetResult();
            throw new InvalidOperationException("boom");
        }, TimeSpan.FromHours(1), TimeProvider.System, new FakeLogger(logs));
        sleeper.Start();
        sleeper.WakeUp();
        await failed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Loop.Testing.Eventually.WaitAsync(() => logs.Count > 0, "the failure logged");

        logs.LatestRecord.Id.Id.Should().Be(901, "event id 1 is the emitter's 'started' in the same category");
    }
}
