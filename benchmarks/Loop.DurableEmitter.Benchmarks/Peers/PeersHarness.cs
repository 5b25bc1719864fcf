using System.Diagnostics;
using System.Globalization;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>
/// The outboxes side by side in one run, on one PostgreSQL cluster (fsync and synchronous_commit on), 1 KiB events:
/// Loop.DurableEmitter, WolverineFx's durable local queue, DotNetCore.CAP, and the floor (one INSERT per event). Each
/// case: a fresh outbox (its own tables), a warm-up, then <c>events</c> publishes split across 1, 16 and 64 callers.
/// "persist" is publish calls per second (each returned once its event was durable) while delivery runs; "end to end"
/// is events per second from the first publish until the last was delivered to the sink and marked.
/// </summary>
internal static class PeersHarness
{
    private const int WarmUp = 1000;

    public static async Task RunAsync(string connectionString, int events, TextWriter output)
    {
        var body = BenchEnvironment.Body(1024);
        var peers = new (string Name, Func<Task<IOutboxPeer>> Start)[]
        {
            ("one INSERT per event (floor)", async () => await InsertPeer.StartAsync(connectionString)),
            ("Loop.DurableEmitter, in-process sink, 1 insert worker", async () => await LoopPeer.StartAsync(connectionString, grpc: false, workers: 1)),
            ("Loop.DurableEmitter, loopback gRPC ingress, 1 insert worker", async () => await LoopPeer.StartAsync(connectionString, grpc: true, workers: 1)),
            ("WolverineFx 6.64 durable local queue", async () => await WolverinePeer.StartAsync(connectionString)),
            ("WolverineFx 6.64 durable outbox to its TCP transport (loopback)", async () => await WolverinePeer.StartAsync(connectionString, outbox: true)),
            ("DotNetCore.CAP 10.0 (parallel send)", async () => await CapPeer.StartAsync(connectionString)),
        };

        output.WriteLine("| outbox | callers | persist (publish calls/s) | end to end (delivered and marked/s) |");
        output.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (var callers in new[] { 1, 16, 64 })
        {
            foreach (var (name, start) in peers.Where(p => Environment.GetEnvironmentVariable("BENCH_PEERS") is not { } only || p.Name.Contains(only, StringComparison.OrdinalIgnoreCase)))
            {
                await using var peer = await start();
                await BenchEnvironment.RunCallersAsync(callers, WarmUp, _ => peer.PublishAsync(body));
                await WaitDeliveredAsync(peer, WarmUp);

                var clock = Stopwatch.StartNew();
                await BenchEnvironment.RunCallersAsync(callers, events, _ => peer.PublishAsync(body));
                var persisted = clock.Elapsed;
                try
                {
                    await WaitDeliveredAsync(peer, WarmUp + events);
                }
                catch (TimeoutException stalled)
                {
                    // A peer that stops delivering is a result too: said in its row, and the run goes on.
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {callers} | {events / persisted.TotalSeconds:N0} | stalled: {stalled.Message} |"));
                    continue;
                }

                var delivered = clock.Elapsed;
                var endToEnd = peer.Delivered == long.MaxValue ? "n/a" : (events / delivered.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {callers} | {events / persisted.TotalSeconds:N0} | {endToEnd} |"));
            }
        }
    }

    private static async Task WaitDeliveredAsync(IOutboxPeer peer, long count)
    {
        var deadline = Stopwatch.StartNew();
        while (peer.Delivered < count)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"{peer.GetType().Name} delivered {peer.Delivered} of {count} in 3 minutes");
            }

            await Task.Delay(1);
        }
    }
}
