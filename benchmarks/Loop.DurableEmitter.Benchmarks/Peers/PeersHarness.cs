using System.Diagnostics;
using System.Globalization;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>
/// The outboxes side by side in one run, on one PostgreSQL cluster (fsync and synchronous_commit on), 1 KiB events:
/// Loop.DurableEmitter, WolverineFx's durable outbox and durable local queue, DotNetCore.CAP, the floor (one INSERT
/// per event) and the group-commit ceiling (N rows per commit, N = callers). Each case: a fresh outbox (its own
/// tables), a warm-up, then <c>events</c> publishes split across 1, 16 and 64 callers. "persist" is publish calls per
/// second (each returned once its event was durable) while delivery runs, with the calls' p99; "end to end" is events
/// per second from the first publish until the last was delivered to the sink and marked.
/// </summary>
internal static class PeersHarness
{
    private const int WarmUp = 1000;

    public static async Task RunAsync(string connectionString, int events, TextWriter output)
    {
        var body = BenchEnvironment.Body(1024);
        var peers = new (string Name, Func<Task<IOutboxPeer>> Start, bool OnlyWhenNamed)[]
        {
            ("one INSERT per event (floor)", async () => await InsertPeer.StartAsync(connectionString), false),
            ("N rows per commit, N = callers (ceiling)", async () => await CeilingPeer.StartAsync(connectionString), false),
            ("Loop.DurableEmitter, store-only (no delivery)", async () => await LoopPeer.StartAsync(connectionString, grpc: false, storeOnly: true), false),
            ("Loop.DurableEmitter, in-process sink", async () => await LoopPeer.StartAsync(connectionString, grpc: false), false),
            ("Loop.DurableEmitter, in-process sink, 1 insert worker", async () => await LoopPeer.StartAsync(connectionString, grpc: false, workers: 1), true),
            ("Loop.DurableEmitter, loopback gRPC ingress", async () => await LoopPeer.StartAsync(connectionString, grpc: true), false),
            ("WolverineFx 6.64 durable outbox to an in-process sender (shared memory)", async () => await WolverinePeer.StartAsync(connectionString, WolverineShape.OutboxToSharedMemory), false),
            ("WolverineFx 6.64 durable local queue", async () => await WolverinePeer.StartAsync(connectionString, WolverineShape.DurableLocalQueue), false),

            // It stalled at 16 callers (11,100 of 21,000 in 3 minutes), so it runs only when asked for (BENCH_PEERS=tcp).
            ("WolverineFx 6.64 durable outbox to its TCP transport (loopback)", async () => await WolverinePeer.StartAsync(connectionString, WolverineShape.OutboxToTcp), true),
            ("DotNetCore.CAP 10.0 (parallel send)", async () => await CapPeer.StartAsync(connectionString), false),
        };

        if (BenchKnobs.Names("BENCH_AB") is { } ab)
        {
            // One caller count: the first of BENCH_CALLERS when set, else one.
            var abCallers = BenchKnobs.Get("BENCH_CALLERS") is null ? 1 : BenchKnobs.Callers[0];
            await AlternateAsync(peers.Select(p => (p.Name, p.Start)).ToArray(), ab, abCallers, events, body, output);
            return;
        }

        var only = BenchKnobs.Names("BENCH_PEERS");
        output.WriteLine("| outbox | callers | persist (publish calls/s) | persist p99 ms | end to end (delivered and marked/s) |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var callers in BenchKnobs.Callers.SelectMany(c => Enumerable.Repeat(c, BenchKnobs.Rounds)))
        {
            var chosen = peers.Where(p => only is null
                ? !p.OnlyWhenNamed
                : only.Any(o => p.Name.Contains(o, StringComparison.OrdinalIgnoreCase)));
            foreach (var (name, start, _) in chosen)
            {
                await using var peer = await start();
                if (peer is CeilingPeer ceiling)
                {
                    ceiling.RowsPerCommit = callers;
                    await ceiling.PersistAsync(body, WarmUp);
                    var timed = Stopwatch.StartNew();
                    await ceiling.PersistAsync(body, events);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {callers} | {events / timed.Elapsed.TotalSeconds:N0} | n/a | n/a |"));
                    continue;
                }

                await BenchEnvironment.RunCallersAsync(callers, WarmUp, _ => peer.PublishAsync(body));
                await WaitDeliveredAsync(peer, WarmUp);

                var latencies = new double[events];
                var clock = Stopwatch.StartNew();
                await BenchEnvironment.RunCallersAsync(callers, events, async i =>
                {
                    var started = Stopwatch.GetTimestamp();
                    await peer.PublishAsync(body);
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                });
                var persisted = clock.Elapsed;
                Array.Sort(latencies);
                var p99 = latencies[(int)Math.Ceiling(latencies.Length * 0.99) - 1];
                string endToEnd;
                try
                {
                    await WaitDeliveredAsync(peer, WarmUp + events);
                    endToEnd = peer.Delivered is null ? "n/a" : (events / clock.Elapsed.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture);
                }
                catch (TimeoutException stalled)
                {
                    // A peer that stops delivering is a result too: said in its row, and the run goes on.
                    endToEnd = $"stalled: {stalled.Message}";
                }

                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {callers} | {events / persisted.TotalSeconds:N0} | {p99:F1} | {endToEnd} |"));
            }
        }
    }

    /// <summary>
    /// Two or more outboxes in alternating blocks of publishes (250, or 100 per caller), so that they share the
    /// machine's changes of speed (which on this machine reach a factor of three within a minute): publish calls per
    /// second each. The order rotates by one outbox each round.
    /// </summary>
    private static async Task AlternateAsync((string Name, Func<Task<IOutboxPeer>> Start)[] all, string[] names, int callers, int events, byte[] body, TextWriter output)
    {
        var block = Math.Max(250, 100 * callers);
        var chosen = names.Select(n => all.FirstOrDefault(p => p.Name.Contains(n, StringComparison.OrdinalIgnoreCase)) is { Name: not null } found
            ? found
            : throw new ArgumentException($"BENCH_AB: \"{n}\" names no outbox (one of: {string.Join("; ", all.Select(p => p.Name))})")).ToArray();
        var peers = new List<IOutboxPeer>();
        foreach (var (_, start) in chosen)
        {
            peers.Add(await start());
        }

        try
        {
            var elapsed = new TimeSpan[peers.Count];
            for (var i = 0; i < peers.Count; i++)
            {
                await BenchEnvironment.RunCallersAsync(callers, WarmUp, _ => peers[i].PublishAsync(body));
            }

            // Each round starts one outbox later, so that no outbox always runs right after the same other one (an
            // outbox's background work, CAP updating the rows it sent, say, spills into the next block).
            var round = 0;
            for (var done = 0; done < events; done += block, round++)
            {
                for (var k = 0; k < peers.Count; k++)
                {
                    var i = (k + round) % peers.Count;
                    var started = Stopwatch.GetTimestamp();
                    await BenchEnvironment.RunCallersAsync(callers, block, _ => peers[i].PublishAsync(body));
                    elapsed[i] += Stopwatch.GetElapsedTime(started);
                }
            }

            for (var i = 0; i < peers.Count; i++)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {chosen[i].Name} | {callers}, alternating | {(events + block - 1) / block * block / elapsed[i].TotalSeconds:N0} | | |"));
            }
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }

    private static async Task WaitDeliveredAsync(IOutboxPeer peer, long count)
    {
        var deadline = Stopwatch.StartNew();
        while (peer.Delivered is { } delivered && delivered < count)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"{peer.GetType().Name} delivered {peer.Delivered} of {count} in 3 minutes");
            }

            await Task.Delay(1);
        }
    }
}
