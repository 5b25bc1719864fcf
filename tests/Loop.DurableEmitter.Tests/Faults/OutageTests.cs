using System.Net;
using System.Text;
using Loop.Events;
using Loop.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Tests.Faults;

/// <summary>
/// Outages an operator must see: a line when one starts, a count while it lasts, a line when it ends, and a health
/// check that says why; never a line per failed event or a stack trace per tick. Real ingress, real PostgreSQL
/// (behind a port the test closes and opens), the emitter's loops on a fake clock.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OutageTests(SharedPostgres pg) : IAsyncLifetime
{
    private readonly FakeLogCollector _logs = new();
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private readonly TestMeters _meters = new();
    private TestIngress _ingress = null!;

    public async Task InitializeAsync() => _ingress = await TestIngress.StartAsync();

    public async Task DisposeAsync()
    {
        await _ingress.DisposeAsync();
        _meters.Dispose();
    }

    private static EventAttributes Attributes => new() { Source = "outage-tests", Type = "test.outage" };

    private static byte[] Body(int i) => Encoding.UTF8.GetBytes($"event {i}");

    private IReadOnlyList<FakeLogRecord> Logs(int eventId) => [.. _logs.GetSnapshot().Where(r => r.Id.Id == eventId)];

    private IReadOnlyList<FakeLogRecord> Errors => [.. _logs.GetSnapshot().Where(r => r.Level >= LogLevel.Error)];

    private GrpcBatchEmitter Grpc(Action<GrpcIngressOptions>? configure = null)
    {
        var options = new GrpcIngressOptions { Endpoint = _ingress.Endpoint, BatchInterval = TimeSpan.Zero, PublishTimeout = TimeSpan.FromSeconds(2) };
        configure?.Invoke(options);
        return new GrpcBatchEmitter(options, timeProvider: _time, logger: new FakeLogger<GrpcBatchEmitter>(_logs));
    }

    private DurableEventEmitter Emitter(IDurableEventStore store, IBatchEmitter transport, Action<DurableEmitterOptions>? configure = null)
    {
        var options = new DurableEmitterOptions { InsertBatchFlushInterval = TimeSpan.Zero, MarkDeliveredFlushInterval = TimeSpan.Zero };
        configure?.Invoke(options);
        return new DurableEventEmitter(store, transport, options, new FakeLogger<DurableEventEmitter>(_logs), _time, _meters.Factory);
    }

    private static async Task<HealthCheckResult> HealthAsync(DurableEventEmitter emitter) =>
        await new DurableEmitterHealthCheck(emitter).CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("DurableEmitter", _ => null!, null, null),
        });

    [Fact]
    public async Task An_ingress_outage_is_a_warning_then_a_count_per_interval_then_one_line_when_it_ends_and_degrades_health()
    {
        await using var transport = Grpc();
        await using var emitter = Emitter(new MemDurableEventStore(_time), transport, o => o.RetransmitEnabled = false);
        await emitter.StartAsync();
        _ingress.Mode = IngressMode.Unavailable;

        for (var i = 0; i < 20; i++)
        {
            await emitter.EmitAsync(Body(i), Attributes);
            await Eventually.WaitAsync(() => emitter.InFlight == 0, "the failed send to settle");
        }

        var failing = Logs(EmitterLog.EventIds.IngressFailing);
        failing.Should().ContainSingle("one warning when the outage starts, not one per event");
        failing[0].Level.Should().Be(LogLevel.Warning);
        failing[0].Message.Should().Contain(_ingress.Endpoint).And.Contain("Unavailable");

        // Past the interval, the next failure says how long and how many.
        _time.Advance(GrpcBatchEmitter.OutageLogInterval);
        _time.Advance(DurableEmitterOptions.DefaultDegradedAfterSendFailures);
        await emitter.EmitAsync(Body(20), Attributes);
        await Eventually.WaitAsync(() => Logs(EmitterLog.EventIds.IngressStillFailing).Count == 1, "one line with the count");
        Logs(EmitterLog.EventIds.IngressStillFailing)[0].Message.Should().Contain("21 failed");
        var degraded = await HealthAsync(emitter);
        degraded.Status.Should().Be(HealthStatus.Degraded);
        degraded.Description.Should().Contain("sends failing");

        _ingress.Mode = IngressMode.Accept;
        await emitter.EmitAsync(Body(21), Attributes);
        await Eventually.WaitAsync(() => Logs(EmitterLog.EventIds.IngressRecovered).Count == 1, "one line when delivery recovers");
        Logs(EmitterLog.EventIds.IngressRecovered)[0].Message.Should().Contain("21 failed");
        await Eventually.WaitAsync(async () => (await HealthAsync(emitter)).Status == HealthStatus.Healthy, "healthy once sends succeed");
        Errors.Should().BeEmpty();
    }

    [Fact]
    public async Task A_hung_ingress_is_reported_as_deadline_exceeded_once()
    {
        _ingress.Mode = IngressMode.Hang;
        await using var transport = new GrpcBatchEmitter(
            new GrpcIngressOptions { Endpoint = _ingress.Endpoint, BatchInterval = TimeSpan.Zero, PublishTimeout = TimeSpan.FromMilliseconds(300) },
            logger: new FakeLogger<GrpcBatchEmitter>(_logs));
        await using var emitter = Emitter(new MemDurableEventStore(_time), transport, o => o.RetransmitEnabled = false);
        await emitter.StartAsync();

        for (var i = 0; i < 5; i++)
        {
            await emitter.EmitAsync(Body(i), Attributes);
        }

        await Eventually.WaitAsync(() => emitter.InFlight == 0, "the hung sends to time out");
        Logs(EmitterLog.EventIds.IngressFailing).Should().ContainSingle().Which.Message.Should().Contain("DeadlineExceeded");
    }

    [Fact]
    public async Task Buffer_full_refusals_are_counted_and_logged_once_per_interval_not_per_event()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var transport = new InMemoryBatchEmitter(
            async (_, _) => await release.Task,
            new BatchingOptions { BatchSize = 1, BufferSize = 2, MaxConcurrentSends = 1, BatchInterval = TimeSpan.Zero },
            _time);
        await using var emitter = Emitter(new MemDurableEventStore(_time), transport, o => o.RetransmitEnabled = false);
        try
        {
            await emitter.StartAsync();
            using var refusals = _meters.Collect("loop.emitter.refused");

            for (var i = 0; i < 50; i++)
            {
                await emitter.EmitAsync(Body(i), Attributes);
            }

            Logs(EmitterLog.EventIds.BufferFull).Should().ContainSingle("one line when refusals start, not one per event");
            _time.Advance(EventDelivery.RefusalLogInterval);
            await emitter.EmitAsync(Body(50), Attributes);
            Logs(EmitterLog.EventIds.BufferStillFull).Should().ContainSingle().Which.Message.Should().MatchRegex("4[5-9] events refused");

            release.SetResult();
            await Eventually.WaitAsync(() => emitter.InFlight == 0, "the buffer to drain");
            _time.Advance(EventDelivery.RefusalQuietPeriod);
            await emitter.EmitAsync(Body(51), Attributes);
            Logs(EmitterLog.EventIds.BufferAcceptsAgain).Should().ContainSingle();
            refusals.Total().Should().BeInRange(46, 49, "every refusal is counted");
        }
        finally
        {
            // A failed assertion must not leave the subscriber blocked: the stop would wait for it.
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_store_outage_is_one_warning_per_loop_no_error_and_an_unhealthy_check_naming_it()
    {
        var target = new NpgsqlConnectionStringBuilder(pg.Fixture.ConnectionString);
        await using var door = new TcpForwarder(new IPEndPoint(IPAddress.Loopback, target.Port));
        door.Open();
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(pg.Fixture.ConnectionString) { Port = door.Port, Timeout = 2 }.ConnectionString);
        var store = new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable() }, _time);
        await using var transport = Grpc();
        await using var emitter = Emitter(store, transport);
        await emitter.StartAsync();
        (await HealthAsync(emitter)).Status.Should().Be(HealthStatus.Healthy);

        await door.CloseAsync();
        dataSource.Clear();
        using var operations = _meters.Collect("loop.emitter.store.operations");
        for (var tick = 0; tick < 6; tick++)
        {
            var before = operations.GetMeasurementSnapshot().Count;
            _time.Advance(TimeSpan.FromSeconds(11));
            await Eventually.WaitAsync(() => operations.GetMeasurementSnapshot().Count > before, "the loops to try the store");
        }

        await Eventually.WaitAsync(
            () => operations.GetMeasurementSnapshot().Where(m => (string?)m.Tags["outcome"] == "failed").Select(m => (string?)m.Tags["operation"]).Distinct().Count() >= 3,
            "each loop to fail");
        Logs(EmitterLog.EventIds.StoreFailing).GroupBy(r => r.Message).Should().AllSatisfy(g => g.Should().ContainSingle("one warning per loop per outage"));
        Logs(EmitterLog.EventIds.StoreFailing).Should().HaveCountGreaterThanOrEqualTo(3);
        Errors.Should().BeEmpty("no stack trace per tick");
        var unhealthy = await HealthAsync(emitter);
        unhealthy.Status.Should().Be(HealthStatus.Unhealthy);
        unhealthy.Description.Should().Contain("store");

        door.Open();
        _time.Advance(TimeSpan.FromSeconds(61));
        await Eventually.WaitAsync(() => Logs(EmitterLog.EventIds.StoreRecovered).Count >= 1, "a line when the store answers again");
        await Eventually.WaitAsync(async () => (await HealthAsync(emitter)).Status == HealthStatus.Healthy, "healthy again");
        await emitter.StopAsync();
    }

    [Fact]
    public async Task A_host_starting_while_postgres_is_down_starts_unhealthy_refuses_emits_and_recovers_when_it_comes_up()
    {
        var target = new NpgsqlConnectionStringBuilder(pg.Fixture.ConnectionString);
        await using var door = new TcpForwarder(new IPEndPoint(IPAddress.Loopback, target.Port));
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(pg.Fixture.ConnectionString) { Port = door.Port, Timeout = 2 }.ConnectionString);
        var store = new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable() }, _time);
        await using var transport = Grpc();
        await using var emitter = Emitter(store, transport);

        await emitter.StartAsync();

        var health = await HealthAsync(emitter);
        health.Status.Should().Be(HealthStatus.Unhealthy);
        health.Description.Should().Contain("store");
        await emitter.Invoking(e => e.EmitAsync(Body(0), Attributes).AsTask()).Should().ThrowAsync<EventPersistenceException>();
        Logs(EmitterLog.EventIds.StoreSetupFailed).Should().ContainSingle();

        door.Open();
        await Eventually.WaitAsync(
            async () =>
            {
                _time.Advance(TimeSpan.FromSeconds(5));
                return (await HealthAsync(emitter)).Status == HealthStatus.Healthy;
            },
            "the schema set up once PostgreSQL answers");
        (await emitter.EmitAsync(Body(1), Attributes)).RowId.Should().BePositive();
        Logs(EmitterLog.EventIds.StoreReady).Should().ContainSingle();
        Errors.Should().BeEmpty();
        await emitter.StopAsync();
    }
}
