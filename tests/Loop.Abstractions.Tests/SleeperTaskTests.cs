using Loop.Services;
using Loop.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Abstractions.Tests;

public sealed class SleeperTaskTests
{
    [Fact]
    public async Task WakeUp_runs_the_work()
    {
        var runs = 0;
        await using var task = new SleeperTask("t", _ => { Interlocked.Increment(ref runs); return ValueTask.CompletedTask; });
        task.Start();

        task.WakeUp();

        await Eventually.WaitAsync(() => Volatile.Read(ref runs) == 1, "one run");
        task.CompletedRuns.Should().Be(1);
    }

    [Fact]
    public async Task A_wake_up_during_a_run_is_followed_by_another_run_and_runs_never_overlap()
    {
        var running = 0;
        var maxConcurrent = 0;
        var runs = 0;
        var firstEntered = new TaskCompletionSource();
        var releaseFirst = new TaskCompletionSource();
        await using var task = new SleeperTask("t", async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxConcurrent, now);
            if (Interlocked.Increment(ref runs) == 1)
            {
                firstEntered.SetResult();
                await releaseFirst.Task;
            }

            Interlocked.Decrement(ref running);
        });
        task.Start();

        task.WakeUp();
        await firstEntered.Task.WaitAsync(Eventually.DefaultTimeout);

        // Many wake-ups while the first run is busy: they coalesce, but at least one more run must follow.
        for (var i = 0; i < 50; i++)
        {
            task.WakeUp();
        }

        releaseFirst.SetResult();
        await Eventually.WaitAsync(() => task.CompletedRuns >= 2, "a second run after the wake-ups");
        maxConcurrent.Should().Be(1);
    }

    [Fact]
    public async Task WakeUp_never_blocks_even_when_the_work_is_stuck()
    {
        var stuck = new TaskCompletionSource();
        await using var task = new SleeperTask("t", async ct => await stuck.Task.WaitAsync(ct));
        task.Start();

        var wakeUps = Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                task.WakeUp();
            }
        });

        await wakeUps.WaitAsync(Eventually.DefaultTimeout);
        wakeUps.IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public async Task The_interval_wakes_the_task_on_the_given_clock()
    {
        var time = new FakeTimeProvider();
        await using var task = new SleeperTask("t", _ => ValueTask.CompletedTask, TimeSpan.FromSeconds(5), time);
        task.Start();

        time.Advance(TimeSpan.FromSeconds(4));
        await Task.Yield();
        task.CompletedRuns.Should().Be(0);

        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.WaitAsync(() => task.CompletedRuns == 1, "the first interval run");
        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.WaitAsync(() => task.CompletedRuns == 2, "the second interval run");
    }

    [Fact]
    public async Task A_failing_run_does_not_stop_the_task()
    {
        var calls = 0;
        await using var task = new SleeperTask("t", _ =>
            Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("boom") : ValueTask.CompletedTask);
        task.Start();

        task.WakeUp();
        await Eventually.WaitAsync(() => task.CompletedRuns == 1, "the failing run");
        task.WakeUp();
        await Eventually.WaitAsync(() => task.CompletedRuns == 2, "a run after the failure");
        calls.Should().Be(2);
    }

    [Fact]
    public async Task Stop_cancels_a_run_in_progress_and_later_wake_ups_are_ignored()
    {
        var cancelled = false;
        var entered = new TaskCompletionSource();
        var task = new SleeperTask("t", async ct =>
        {
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
                throw;
            }
        });
        task.Start();
        task.WakeUp();
        await entered.Task.WaitAsync(Eventually.DefaultTimeout);

        await task.StopAsync().WaitAsync(Eventually.DefaultTimeout);
        task.WakeUp();

        cancelled.Should().BeTrue();
        await task.StopAsync(); // idempotent
        var start = () => task.Start();
        start.Should().Throw<InvalidOperationException>();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
