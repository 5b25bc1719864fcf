using DotNetCore.CAP;
using DotNetCore.CAP.Messages;
using DotNetCore.CAP.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>
/// DotNetCore.CAP with PostgreSQL storage: each publish stores the message in CAP's published table before the call
/// returns; CAP's dispatcher sends it through a transport (here a sink that acknowledges at once) and marks it
/// succeeded. CAP's defaults otherwise (its parallel send on).
/// </summary>
internal sealed class CapPeer(IHost host) : IOutboxPeer
{
    private static long _sent;
    private readonly ICapPublisher _publisher = host.Services.GetRequiredService<ICapPublisher>();

    public long? Delivered => Interlocked.Read(ref _sent);

    public static async Task<CapPeer> StartAsync(string connectionString)
    {
        Interlocked.Exchange(ref _sent, 0);
        var schema = $"cap_{Guid.NewGuid():N}"[..20];
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddCap(cap =>
        {
            cap.UsePostgreSql(pg =>
            {
                pg.ConnectionString = connectionString;
                pg.Schema = schema;
            });
            cap.EnablePublishParallelSend = true;
            cap.RegisterExtension(new SinkExtension());
        });
        var host = builder.Build();
        await host.StartAsync();

        // CAP creates its tables in the background after the host starts.
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
        await using var check = dataSource.CreateCommand($"SELECT to_regclass('{schema}.published') IS NOT NULL AND to_regclass('{schema}.received') IS NOT NULL");
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!(bool)(await check.ExecuteScalarAsync())! && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20);
        }

        return new CapPeer(host);
    }

    public Task PublishAsync(byte[] body) => _publisher.PublishAsync("bench.event", body);

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }

    private sealed class SinkExtension : ICapOptionsExtension
    {
        public void AddServices(IServiceCollection services)
        {
            services.AddSingleton(new CapMessageQueueMakerService("sink"));
            services.AddSingleton<ITransport, SinkTransport>();
            services.AddSingleton<IConsumerClientFactory, NoConsumers>();
        }
    }

    private sealed class SinkTransport : ITransport
    {
        public BrokerAddress BrokerAddress { get; } = new("sink", "in-process");

        public Task<OperateResult> SendAsync(TransportMessage message)
        {
            Interlocked.Increment(ref _sent);
            return Task.FromResult(OperateResult.Success);
        }
    }

    private sealed class NoConsumers : IConsumerClientFactory
    {
        public Task<IConsumerClient> CreateAsync(string groupName, byte groupConcurrent) =>
            throw new InvalidOperationException("the benchmark subscribes to nothing");
    }
}
