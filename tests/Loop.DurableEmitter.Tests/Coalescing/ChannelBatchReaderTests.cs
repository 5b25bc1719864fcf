using System.Collections.Concurrent;
using System.Threading.Channels;
using Loop.DurableEmitter.Coalescing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.DurableEmitter.Tests.Coalescing;

public sealed class ChannelBatchReaderTests
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task A_lingering_batch_is_read_as_soon_as_it_can_be_filled_without_waiting_for_the_linger()
    {
        var channel = Channel.CreateBounded<int>(100);
        var batch = new List<int>();
        channel.Writer.TryWrite(0).Should().BeTrue();

        // The first item is taken at once and the reader lingers (the clock never moves in this test).
        var read = ChannelBatchReader.ReadBatchAsync(channel.Reader, batch, 10, Linger, _time, CancellationToken.None).AsTask();
        for (var i = 1; i < 10; i++)
        {
            read.IsCompleted.Should().BeFalse("the batch is not full before item {0}", i);
            channel.Writer.TryWrite(i).Should().BeTrue();
        }

        (await read.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
        batch.Should().Equal(Enumerable.Range(0, 10));
    }

    [Fact]
    public async Task A_partial_batch_waits_for_the_linger_and_takes_what_came_meanwhile()
    {
        var channel = Channel.CreateUnbounded<int>();
        var batch = new List<int>();
        channel.Writer.TryWrite(1);
        channel.Writer.TryWrite(2);

        var read = ChannelBatchReader.ReadBatchAsync(channel.Reader, batch, 10, Linger, _time, CancellationToken.None).AsTask();
        _time.Advance(Linger / 2);
        channel.Writer.TryWrite(3);
        read.IsCompleted.Should().BeFalse();

        _time.Advance(Linger / 2);
        (await read.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
        batch.Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task Completing_ends_a_linger_and_the_rest_is_drained_before_reads_report_the_end()
    {
        var channel = Channel.CreateBounded<int>(100);
        var batch = new List<int>();
        channel.Writer.TryWrite(1);
        var read = ChannelBatchReader.ReadBatchAsync(channel.Reader, batch, 10, Linger, _time, CancellationToken.None).AsTask();

        channel.Writer.Complete();
        (await read.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
        batch.Should().Equal(1);
        channel.Writer.TryWrite(2).Should().BeFalse("a completed channel takes nothing");
        (await ChannelBatchReader.ReadBatchAsync(channel.Reader, batch, 10, Linger, _time, CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task Many_writers_and_lingering_readers_see_every_item_once()
    {
        // Real time here: the linger must end by itself when writers pause.
        var channel = Channel.CreateBounded<int>(1000);
        var seen = new ConcurrentBag<int>();
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var batch = new List<int>();
            while (await ChannelBatchReader.ReadBatchAsync(channel.Reader, batch, 50, TimeSpan.FromMilliseconds(2), TimeProvider.System, CancellationToken.None))
            {
                batch.Count.Should().BeInRange(1, 50);
                foreach (var item in batch)
                {
                    seen.Add(item);
                }
            }
        })).ToArray();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 5000; i++)
            {
                await channel.Writer.WriteAsync((w * 5000) + i);
            }
        })));
        channel.Writer.Complete();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));

        seen.Order().Should().Equal(Enumerable.Range(0, 40_000));
    }
}
