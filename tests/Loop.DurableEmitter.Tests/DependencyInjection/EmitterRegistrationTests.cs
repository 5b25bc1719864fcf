using System.Collections.Concurrent;
using Loop.Events;
using Loop.Events.CloudEvents;
using Loop.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter.Tests.DependencyInjection;

/// <summary>What an application wires: its own data source, a named connection string, any transport, store-only processes, observers.</summary>
[Collection(PostgresCollection.Name)]
public sealed class EmitterRegistrationTests(SharedPostgres pg)
{
    private static readonly EventAttributes Attributes = new() { Source = "di", Type = "di.test" };

    private static IHost Build(Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        configure(builder);
        return builder.Build();
    }

    [Fact]
    public void AddDurableEmitter_twice_is_a_clear_error_at_registration()
    {
        var services = new ServiceCollection();
        services.AddDurableEmitter();

        var again = () => services.AddDurableEmitter(o => o.EventTtl = TimeSpan.FromMinutes(5));

        again.Should().Throw<InvalidOperationException>().WithMessage("AddDurableEmitter was called twice*");
    }

    [Fact]
    public async Task A_lease_no_longer_than_the_ingress_publish_timeout_fails_the_start_as_a_validation_error_naming_both()
    {
        using var host = Build(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Loop:Emitter:RetransmitAfter"] = "00:00:05",
                ["Loop:Emitter:Ingress:Endpoint"] = "127.0.0.1:9",
                ["Loop:Emitter:Ingress:PublishTimeout"] = "00:00:05",
            });
            b.Services.AddDurableEmitter(b.Configuration.GetSection("Loop:Emitter")).UseInMemoryStore().UseGrpcIngress(b.Configuration.GetSection("Loop:Emitter:Ingress"));
        });

        var error = (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Message.Should().Contain("Loop:Emitter:RetransmitAfter (00:00:05) must exceed the ingress's PublishTimeout (00:00:05, Loop:Emitter:Ingress:PublishTimeout)");
    }

    [Fact]
    public async Task The_applications_own_data_source_is_used_and_the_interface_is_injectable()
    {
        await using var ingress = await TestIngress.StartAsync();
        var table = PostgresFixture.UniqueTable();
        using var host = Build(b => b.Services.AddDurableEmitter()
            .UsePostgres(pg.Fixture.DataSource)
            .ConfigurePostgres(o => o.TableName = table)
            .UseGrpcIngress(o => o.Endpoint = ingress.Endpoint));
        await host.StartAsync();

        var emitter = host.Services.GetRequiredService<IDurableEventEmitter>();
        emitter.Should().BeSameAs(host.Services.GetRequiredService<DurableEventEmitter>());
        var receipt = await emitter.EmitAsync(new byte[] { 1 }, Attributes);
        await Eventually.WaitAsync(() => ingress.ByKey.ContainsKey(receipt.IdempotencyKey), "the event at the ingress");
        ((PgDurableEventStore)host.Services.GetRequiredService<IDurableEventStore>()).Table.Should().EndWith(table);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_named_connection_string_is_read_from_configuration()
    {
        using var host = Build(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:events"] = pg.Fixture.ConnectionString });
            b.Services.AddDurableEmitter().UsePostgresConnectionString("events", o => o.TableName = PostgresFixture.UniqueTable()).UseStoreOnly();
        });
        await host.StartAsync();

        (await host.Services.GetRequiredService<IDurableEventEmitter>().EmitAsync(new byte[] { 2 }, Attributes)).RowId.Should().BePositive();
        await host.StopAsync();
    }

    [Theory]
    [InlineData(null, "ConnectionStrings:events is missing or empty")]
    [InlineData("Host=127.0.0.1;Bogus Keyword=1;Password=s3cret", "ConnectionStrings:events is not a valid PostgreSQL connection string")]
    public async Task A_missing_or_malformed_named_connection_string_fails_the_start_naming_where_it_was_looked_for(string? value, string message)
    {
        using var host = Build(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:events"] = value });
            b.Services.AddDurableEmitter().UsePostgresConnectionString("events").UseStoreOnly();
        });

        var error = (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Message.Should().Contain(message).And.NotContain("s3cret");
    }

    [Fact]
    public async Task A_store_only_process_stores_without_a_lease_and_sends_nothing_and_the_host_delivers()
    {
        var table = PostgresFixture.UniqueTable();
        using var writer = Build(b => b.Services.AddDurableEmitter(o => o.RetransmitAfter = TimeSpan.FromMilliseconds(200))
            .UsePostgres(pg.Fixture.DataSource).ConfigurePostgres(o => o.TableName = table)
            .UseStoreOnly());
        await writer.StartAsync();
        var receipt = await writer.Services.GetRequiredService<IDurableEventEmitter>().EmitAsync(new byte[] { 3 }, Attributes);
        await writer.StopAsync();
        var pending = await new PgDurableEventStore(pg.Fixture.DataSource, new PgDurableEventStoreOptions { TableName = table })
            .ClaimPendingAsync(DateTimeOffset.MaxValue, null, 10, TimeSpan.FromMilliseconds(1));
        pending.Select(e => e.Id).Should().Equal([receipt.RowId], "the writer sent nothing and held no lease on its row");

        var received = new ConcurrentQueue<CloudEvent>();
        using var deliverer = Build(b => b.Services.AddDurableEmitter(o => { o.RetransmitAfter = TimeSpan.FromMilliseconds(200); o.RetransmitInterval = TimeSpan.FromMilliseconds(50); })
            .UsePostgres(pg.Fixture.DataSource).ConfigurePostgres(o => o.TableName = table)
            .UseInMemoryTransport(_ => (batch, _) => { foreach (var e in batch) { received.Enqueue(e); } return ValueTask.CompletedTask; }));
        await deliverer.StartAsync();

        await Eventually.WaitAsync(() => received.Any(e => e.Id == receipt.EventId), "the host to deliver the writer's row");
        await deliverer.StopAsync();
    }

    [Fact]
    public async Task Any_transport_is_accepted_and_observers_hear_each_outcome()
    {
        using var host = Build(b =>
        {
            b.Services.AddDurableEmitter(o => o.RetransmitEnabled = false)
                .UseInMemoryStore()
                .UseTransport<RejectOddTransport>()
                .AddDeliveryObserver<RecordingObserver>();
        });
        await host.StartAsync();
        var emitter = host.Services.GetRequiredService<IDurableEventEmitter>();
        var observer = host.Services.GetServices<IDeliveryObserver>().OfType<RecordingObserver>().Single();

        var receipts = new List<EmitReceipt>();
        for (var i = 0; i < 4; i++)
        {
            receipts.Add(await emitter.EmitAsync(new byte[] { (byte)i }, Attributes));
        }

        await Eventually.WaitAsync(() => observer.Delivered.Count + observer.Failed.Count == 4, "an outcome per event");
        observer.Delivered.Should().BeEquivalentTo(receipts.Where((_, i) => i % 2 == 0).Select(r => r.RowId));
        observer.Failed.Keys.Should().BeEquivalentTo(receipts.Where((_, i) => i % 2 == 1).Select(r => r.RowId));
        observer.Failed.Values.Should().AllSatisfy(e => e.Message.Should().Be("odd"));
        await host.StopAsync();
    }

    public sealed class RecordingObserver : IDeliveryObserver
    {
        public ConcurrentBag<long> Delivered { get; } = [];

        public ConcurrentDictionary<long, Exception> Failed { get; } = new();

        public void OnDelivered(IReadOnlyList<long> rowIds)
        {
            foreach (var id in rowIds)
            {
                Delivered.Add(id);
            }
        }

        public void OnFailed(long rowId, Exception reason) => Failed[rowId] = reason;
    }

    /// <summary>An application's own transport: delivers events with an even body byte, fails the odd ones.</summary>
    public sealed class RejectOddTransport : IBatchEmitter
    {
        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public QueueResult TryQueue(CloudEvent cloudEvent, TimeSpan sendWithin, Action<Exception?> onSent)
        {
            var odd = cloudEvent.ProtoData.Value[0] % 2 == 1;
            _ = Task.Run(() => onSent(odd ? new InvalidOperationException("odd") : null));
            return QueueResult.Queued;
        }

        public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
