using System.Collections.Concurrent;
using Loop.Events;
using Loop.Events.CloudEvents;
using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter.Tests.DependencyInjection;

[Collection(PostgresCollection.Name)]
public sealed class AddDurableEmitterTests(SharedPostgres pg)
{
    private static IHost Build(Action<IServiceCollection> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        configure(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task A_host_runs_the_emitter_with_postgres_and_a_grpc_ingress()
    {
        await using var ingress = await TestIngress.StartAsync();
        using var host = Build(s => s.AddDurableEmitter()
            .UsePostgres(pg.Fixture.ConnectionString, o => o.TableName = PostgresFixture.UniqueTable())
            .UseGrpcIngress(o => o.Endpoint = ingress.Endpoint));
        await host.StartAsync();

        var emitter = host.Services.GetRequiredService<DurableEventEmitter>();
        var receipt = await emitter.EmitAsync(new byte[] { 1, 2, 3 }, new EventAttributes { Source = "di", Type = "di.test" });
        await Eventually.WaitAsync(() => ingress.ByKey.ContainsKey(receipt.IdempotencyKey), "the event at the ingress");

        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        health.Entries["DurableEmitter"].Status.Should().Be(HealthStatus.Healthy);
        await host.StopAsync();
        emitter.State.Should().Be(Loop.Services.ServiceState.Stopped);
    }

    [Fact]
    public async Task The_in_memory_store_and_transport_work_without_infrastructure()
    {
        var received = new ConcurrentQueue<CloudEvent>();
        using var host = Build(s => s.AddDurableEmitter()
            .UseInMemoryStore()
            .UseInMemoryTransport(_ => (batch, _) => { foreach (var e in batch) { received.Enqueue(e); } return ValueTask.CompletedTask; }));
        await host.StartAsync();

        await host.Services.GetRequiredService<DurableEventEmitter>().EmitAsync(new byte[] { 9 }, new EventAttributes { Source = "mem", Type = "mem.test" });

        await Eventually.WaitAsync(() => received.Count == 1, "the event at the subscriber");
        host.Services.GetRequiredService<IDurableEventStore>().Should().BeOfType<MemDurableEventStore>();
        await host.StopAsync();
    }

    [Theory]
    [InlineData("ttl", "DurableEmitterOptions.EventTtl must be positive")]
    [InlineData("no-store", "has no store: call UsePostgres")]
    [InlineData("no-transport", "has no transport: call UseGrpcIngress")]
    [InlineData("endpoint", "GrpcIngressOptions.Endpoint is required")]
    [InlineData("table", "PgDurableEventStoreOptions.TableName")]
    public async Task Bad_settings_fail_the_start_naming_the_setting(string fault, string message)
    {
        using var host = Build(s =>
        {
            var builder = s.AddDurableEmitter(o => o.EventTtl = fault == "ttl" ? TimeSpan.Zero : TimeSpan.FromHours(1));
            if (fault != "no-store")
            {
                if (fault == "table")
                {
                    builder.UsePostgres(pg.Fixture.ConnectionString, o => o.TableName = "Bad Table");
                }
                else
                {
                    builder.UseInMemoryStore();
                }
            }

            if (fault != "no-transport")
            {
                builder.UseGrpcIngress(o => o.Endpoint = fault == "endpoint" ? null : "127.0.0.1:1");
            }
        });

        var start = () => host.StartAsync();
        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain(message);
    }
}
