using System.Collections.Concurrent;
using System.Threading.Channels;
using Loop.DurableEmitter.Coalescing;
using Loop.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.DurableEmitter.Tests.Coalescing;

public sealed class CallerLedBatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task A_lone_item_is_flushed_by_its_caller_before_the_add_returns()
    {
        var flushedOn = -1;
        var batches = new List<List<int>>();
        var batcher = new CallerLedBatcher<int>(10, TimeSpan.Zero, 1, _time, _time, (batch, _) =>
        {
            flushedOn = Environment.CurrentManagedThreadId;
            batches.Add([.. batch]);
            return ValueTask.CompletedTask;
        }, _ => { });

        var caller = Environment.CurrentManagedThreadId;
        var add = batcher.AddAsync(7);

        // No hand-off to a worker: the flush ran on the caller's thread, within the call.
        add.IsCompletedSuccessfully.Should().BeTrue();
        flushedOn.Should().Be(caller);
        batches.Should().ContainSingle().Which.Should().Equal(7);
        await batcher.CompleteAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Items_added_while_a_flush_runs_go_in_the_next_batch_and_none_is_lost_or_flushed_twice()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new ConcurrentQueue<int[]>();
        var running = 0;
        var mostAtOnce = 0;
        var batcher = new CallerLedBatcher<int>(10, TimeSpan.Zero, 2, _time, _time, async (batch, _) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            batches.Enqueue([.. batch]);
            if (batch.Contains(0) || batch.Contains(1))
            {
                await release.Task;
            }

            Interlocked.Decrement(ref running);
        }, _ => { });

        // The first item leads a flush and holds it.
        var first = batcher.AddAsync(0).AsTask();
        first.IsCompleted.Should().BeFalse();

        // A second flush may run, but only for a whole batch: fewer items wait for the running flush.
        for (var i = 1; i < 10; i++)
        {
            batcher.AddAsync(i).IsCompletedSuccessfully.Should().BeTrue("item {0} waits for the running flush", i);
        }

        batches.Should().ContainSingle("no second flush starts for less than a whole batch");

        // The tenth queued item makes a whole batch: its caller leads the second flush, with all ten.
        var second = batcher.AddAsync(10).AsTask();
        second.IsCompleted.Should().BeFalse();
        batches.Should().HaveCount(2);
        batches.Last().Should().Equal(Enumerable.Range(1, 10));

        // Later items find no free flush: they are queued and their adds return at once.
        for (var i = 11; i < 50; i++)
        {
            batcher.AddAsync(i).IsCompletedSuccessfully.Should().BeTrue("item {0} waits for the next flush", i);
        }

        release.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Deadline);

        // The callers of the two flushed batches do not come back: the queued items wait for them until the clock moves.
        _time.Advance(CallerLedBatcher<int>.ReturnWait);
        await Eventually.WaitAsync(() => batches.Sum(b => b.Length) == 50, "all 50 items flushed", Deadline);

        batches.SelectMany(b => b).Should().BeEquivalentTo(Enumerable.Range(0, 50), o => o.WithoutStrictOrdering());
        batches.Skip(2).Should().NotBeEmpty().And.OnlyContain(b => b.Length > 1, "the queued items were flushed together, not one by one");
        mostAtOnce.Should().BeLessThanOrEqualTo(2);
        await batcher.CompleteAsync(CancellationToken.None).WaitAsync(Deadline);
    }

    [Fact]
    public async Task Completing_waits_for_queued_items_and_then_refuses_new_ones()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flushed = new ConcurrentQueue<int>();
        var batcher = new CallerLedBatcher<int>(100, TimeSpan.Zero, 1, _time, _time, async (batch, _) =>
        {
            await release.Task;
            foreach (var item in batch)
            {
                flushed.Enqueue(item);
            }
        }, _ => { });

        var leader = batcher.AddAsync(0).AsTask();
        batcher.AddAsync(1).IsCompletedSuccessfully.Should().BeTrue();
        var completing = batcher.CompleteAsync(CancellationToken.None);
        completing.IsCompleted.Should().BeFalse("two items are not flushed yet");
        var refused = () => batcher.AddAsync(2);
        refused.Should().Throw<ChannelClosedException>();

        release.SetResult();
        await Task.WhenAll(leader, completing).WaitAsync(Deadline);
        flushed.Should().BeEquivalentTo([0, 1]);
    }

    [Fact]
    public async Task A_stop_out_of_time_cancels_the_running_flush_and_abandons_what_is_queued()
    {
        var abandoned = new ConcurrentQueue<int>();
        var cancelledFlush = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new CallerLedBatcher<int>(100, TimeSpan.Zero, 1, _time, _time, async (batch, token) =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, token);
            }
            catch (OperationCanceledException)
            {
                cancelledFlush.TrySetResult(batch.Count);
            }
        }, abandoned.Enqueue);

        var leader = batcher.AddAsync(0).AsTask();
        batcher.AddAsync(1).IsCompletedSuccessfully.Should().BeTrue();
        batcher.AddAsync(2).IsCompletedSuccessfully.Should().BeTrue();

        using var outOfTime = new CancellationTokenSource();
        await outOfTime.CancelAsync();
        await batcher.CompleteAsync(outOfTime.Token).WaitAsync(Deadline);

        (await cancelledFlush.Task.WaitAsync(Deadline)).Should().Be(1, "the running flush held the first item and heard the cancellation");
        abandoned.Should().BeEquivalentTo([1, 2]);
        await leader.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_linger_holds_the_flush_until_the_clock_moves_and_gathers_what_came_meanwhile()
    {
        var batches = new ConcurrentQueue<int[]>();
        var batcher = new CallerLedBatcher<int>(100, TimeSpan.FromMilliseconds(5), 1, _time, _time, (batch, _) =>
        {
            batches.Enqueue([.. batch]);
            return ValueTask.CompletedTask;
        }, _ => { });

        var leader = batcher.AddAsync(0).AsTask();
        batcher.AddAsync(1).IsCompletedSuccessfully.Should().BeTrue();
        leader.IsCompleted.Should().BeFalse("the flush lingers until the clock moves");
        batches.Should().BeEmpty();

        _time.Advance(TimeSpan.FromMilliseconds(5));
        await leader.WaitAsync(Deadline);
        batches.Should().ContainSingle().Which.Should().Equal(0, 1);
        await batcher.CompleteAsync(CancellationToken.None).WaitAsync(Deadline);
    }

    [Fact]
    public async Task The_callers_of_a_batch_coming_back_are_flushed_together_by_the_last_of_them()
    {
        var flushes = new HeldFlushes();
        var batches = flushes.Batches;
        var batcher = flushes.Create(_time);

        // Item 0 leads a flush; items 1 to 3 queue behind it and wait for item 0's caller to come back.
        var leader = batcher.AddAsync(0).AsTask();
        for (var i = 1; i < 4; i++)
        {
            batcher.AddAsync(i).IsCompletedSuccessfully.Should().BeTrue();
        }

        flushes.Hold.SetResult();
        await leader.WaitAsync(Deadline);
        batches.Should().ContainSingle();

        // It comes back with item 4 and leads all four (the clock never moves in this test).
        await batcher.AddAsync(4).AsTask().WaitAsync(Deadline);
        batches.Last().Should().Equal(1, 2, 3, 4);
        batches.Clear();

        // The four callers of that batch come back: the first three wait for the fourth, which leads all four.
        for (var i = 10; i < 13; i++)
        {
            batcher.AddAsync(i).IsCompletedSuccessfully.Should().BeTrue();
        }

        batches.Should().BeEmpty("three of the four callers of the last batch are back");
        await batcher.AddAsync(13).AsTask().WaitAsync(Deadline);
        batches.Should().ContainSingle().Which.Should().Equal(10, 11, 12, 13);
        await batcher.CompleteAsync(CancellationToken.None).WaitAsync(Deadline);
    }

    [Fact]
    public async Task After_a_wait_runs_out_the_next_batches_do_not_wait_for_callers_that_emit_once()
    {
        var flushes = new HeldFlushes();
        var batches = flushes.Batches;
        var batcher = flushes.Create(_time);

        // Item 1 queues behind item 0's flush, and waits for item 0's caller, who never comes back.
        var leader = batcher.AddAsync(0).AsTask();
        batcher.AddAsync(1).IsCompletedSuccessfully.Should().BeTrue();
        flushes.Hold.SetResult();
        await leader.WaitAsync(Deadline);
        batches.Should().ContainSingle("item 1 waits for the caller of item 0");
        _time.Advance(CallerLedBatcher<int>.ReturnWait);
        await Eventually.WaitAsync(() => batches.Count == 2, "item 1 flushed once the wait ran out", Deadline);

        // The same pattern again: now the queued item is flushed as soon as the flush before it ends, with no wait.
        flushes.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        leader = batcher.AddAsync(100).AsTask();
        batcher.AddAsync(101).IsCompletedSuccessfully.Should().BeTrue();
        flushes.Hold.SetResult();
        await leader.WaitAsync(Deadline);
        await Eventually.WaitAsync(() => batches.Any(b => b.Contains(101)), "item 101 flushed without the clock moving", Deadline);
        await batcher.CompleteAsync(CancellationToken.None).WaitAsync(Deadline);
    }

    /// <summary>
    /// Callers that emit in blocks and then stop, as a burst of requests does, on real threads and the real return-wait
    /// timer: every block must finish. A caller that brought back the last of a batch's callers used to disarm the wait's
    /// timer just after a flush ending on another thread had armed it for the next batch; the flag said armed, no timer
    /// would fire, and once the callers stopped coming back the queued items waited forever (the peers harness hung with
    /// 62 emits queued and nothing running).
    /// </summary>
    [Fact]
    public async Task Callers_that_stop_after_bursts_never_leave_items_queued_with_nobody_to_flush_them()
    {
        var flushed = 0;
        var batcher = new CallerLedBatcher<TaskCompletionSource>(1000, TimeSpan.Zero, 4, _time, TimeProvider.System, async (batch, _) =>
        {
            await Task.Yield();
            Interlocked.Add(ref flushed, batch.Count);
            foreach (var item in batch)
            {
                item.TrySetResult();
            }
        }, item => item.TrySetCanceled());

        const int Callers = 64;
        var expected = 0;
        for (var block = 0; block < 400; block++)
        {
            // Callers stop at different points of each block.
            var counts = Enumerable.Range(0, Callers).Select(c => 1 + ((block + c) % 7)).ToArray();
            expected += counts.Sum();
            var all = Task.WhenAll(counts.Select(count => Task.Run(async () =>
            {
                for (var i = 0; i < count; i++)
                {
                    var item = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    await batcher.AddAsync(item);
                    await item.Task;
                }
            })));
            try
            {
                await all.WaitAsync(Deadline);
            }
            catch (TimeoutException)
            {
                // Said by the assertion below, with the count.
            }

            all.IsCompletedSuccessfully.Should().BeTrue($"block {block} finishes ({Volatile.Read(ref flushed)} of {expected} items flushed)");
        }

        flushed.Should().Be(expected);
        await batcher.CompleteAsync(CancellationToken.None).WaitAsync(Deadline);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    /// <summary>A batcher (one flush at a time) whose flushes record their batch, then wait for <see cref="Hold"/>.</summary>
    private sealed class HeldFlushes
    {
        public ConcurrentQueue<int[]> Batches { get; } = new();

        public TaskCompletionSource Hold { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CallerLedBatcher<int> Create(FakeTimeProvider time) => new(100, TimeSpan.Zero, 1, time, time, async (batch, _) =>
        {
            Batches.Enqueue([.. batch]);
            await Hold.Task;
        }, _ => { });
    }
}
