// Emits events through a DurableEventEmitter on PostgreSQL as fast as it can, from several callers, and prints
// "ACK <idempotency key>" for every emit that returned success. The crash test kills it with SIGKILL mid-stream and
// then checks that every acknowledged event is delivered by another emitter on the same table.
//
// With "postgres-server" it starts a throwaway PostgreSQL cluster, prints "READY <its folder>" and waits to be signalled:
// the cluster must not outlive a process stopped by SIGTERM or SIGINT.
using System.Text;
using Loop.DurableEmitter;
using Loop.Testing;
using Npgsql;

if (args is ["postgres-server"])
{
    var server = await PostgresServer.StartAsync();
    Console.WriteLine($"READY {server.Folder}");
    await Task.Delay(Timeout.Infinite);
    return 0;
}

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: crash-host <connection string> <table> <ingress endpoint>");
    return 2;
}

await using var dataSource = NpgsqlDataSource.Create(args[0]);
var store = new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = args[1] });
var transport = new GrpcBatchEmitter(new GrpcIngressOptions { Endpoint = args[2], PublishTimeout = TimeSpan.FromSeconds(2) });

// A plugin-like writer: it inserts and delivers but leaves retransmit to the host.
var emitter = new DurableEventEmitter(store, transport, new DurableEmitterOptions { RetransmitEnabled = false });
await emitter.StartAsync();

var stdout = new StreamWriter(Console.OpenStandardOutput(), Encoding.UTF8) { AutoFlush = true };
var gate = new Lock();
var counter = 0L;
Console.Error.WriteLine("READY");
var callers = Enumerable.Range(0, 8).Select(async _ =>
{
    while (true)
    {
        var n = Interlocked.Increment(ref counter);
        try
        {
            var receipt = await emitter.EmitAsync(Encoding.UTF8.GetBytes($"event {n}"), new EventAttributes { Source = "crash-host", Type = "test.crash" });
            lock (gate)
            {
                stdout.WriteLine($"ACK {receipt.IdempotencyKey}");
            }
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"emit {n} failed: {ex.Message}");
        }
    }
});
await Task.WhenAll(callers);
return 0;
