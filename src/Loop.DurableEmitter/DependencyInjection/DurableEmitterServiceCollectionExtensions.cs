using System.Diagnostics.Metrics;
using Loop.DurableEmitter;
using Loop.Hosting;
using Loop.Options;
using Loop.Events;
using Loop.Events.CloudEvents;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the durable emitter in a service collection.</summary>
public static class DurableEmitterServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DurableEventEmitter"/> (and <see cref="IDurableEventEmitter"/>) as a singleton run by a hosted service, with a health check named
    /// <c>DurableEmitter</c>. Choose a store (<see cref="UsePostgres"/> or <see cref="UseInMemoryStore"/>) and a transport
    /// (<see cref="UseGrpcIngress(IDurableEmitterBuilder, Action{GrpcIngressOptions})"/> or
    /// <see cref="UseInMemoryTransport"/>); options are validated when the host starts, every error at once.
    /// </summary>
    public static IDurableEmitterBuilder AddDurableEmitter(this IServiceCollection services) => AddDurableEmitter(services, null, null);

    /// <summary><see cref="AddDurableEmitter(IServiceCollection)"/>, with <paramref name="configure"/> setting the options.</summary>
    public static IDurableEmitterBuilder AddDurableEmitter(this IServiceCollection services, Action<DurableEmitterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddDurableEmitter(services, null, configure);
    }

    /// <summary>
    /// <see cref="AddDurableEmitter(IServiceCollection)"/> with <see cref="DurableEmitterOptions"/> bound from
    /// <paramref name="section"/> (<c>builder.Configuration.GetSection("Loop:Emitter")</c>); errors name the configuration
    /// path (<c>Loop:Emitter:EventTtl must be positive (was 00:00:00)</c>).
    /// </summary>
    public static IDurableEmitterBuilder AddDurableEmitter(this IServiceCollection services, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddDurableEmitter(services, section, null);
    }

    private static IDurableEmitterBuilder AddDurableEmitter(IServiceCollection services, IConfigurationSection? section, Action<DurableEmitterOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ValidatedOptions.Add(services, Options.Options.DefaultName, section, static (b, s) => b.Bind(s), configure, new DurableEmitterOptionsValidator(), DurableEmitterOptions.Rules);
        services.AddOptions<DurableEmitterSetup>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableEmitterSetup>, DurableEmitterSetupValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(CreateEmitter);
        services.TryAddSingleton<IDurableEventEmitter>(sp => sp.GetRequiredService<DurableEventEmitter>());
        services.AddLoopService("DurableEmitter", sp => sp.GetRequiredService<DurableEventEmitter>(), sp => new DurableEmitterHealthCheck(sp.GetRequiredService<DurableEventEmitter>()));
        return new DurableEmitterBuilder(services);
    }

    /// <summary>Stores events in PostgreSQL; the table is created at start.</summary>
    /// <param name="builder">The emitter builder.</param>
    /// <param name="connectionString">An Npgsql connection string. Its password is never logged.</param>
    /// <param name="configure">Table and insert options.</param>
    public static IDurableEmitterBuilder UsePostgres(
        this IDurableEmitterBuilder builder, string connectionString, Action<PgDurableEventStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var services = builder.Services;
        services.Configure<DurableEmitterSetup>(s => s.Store = "postgres");
        ValidatedOptions.Add(services, Options.Options.DefaultName, null, static (b, s) => b.Bind(s), configure, new PgDurableEventStoreOptionsValidator(), PgDurableEventStoreOptions.Rules);
        services.TryAddKeyedSingleton(nameof(DurableEventEmitter), (_, _) => NpgsqlDataSource.Create(connectionString));
        services.Replace(ServiceDescriptor.Singleton<IDurableEventStore>(sp => new PgDurableEventStore(
            sp.GetRequiredKeyedService<NpgsqlDataSource>(nameof(DurableEventEmitter)),
            sp.GetRequiredService<IOptions<PgDurableEventStoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>())));
        return builder;
    }

    /// <summary>Stores events in process memory: lost on a crash. For demos, tests and hosts that accept that.</summary>
    public static IDurableEmitterBuilder UseInMemoryStore(this IDurableEmitterBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<DurableEmitterSetup>(s => s.Store = "memory");
        builder.Services.Replace(ServiceDescriptor.Singleton<IDurableEventStore>(sp => new MemDurableEventStore(sp.GetRequiredService<TimeProvider>())));
        return builder;
    }

    /// <summary>Delivers to a Chip Ingress compatible gRPC service.</summary>
    public static IDurableEmitterBuilder UseGrpcIngress(this IDurableEmitterBuilder builder, Action<GrpcIngressOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return UseGrpcIngress(builder, null, configure);
    }

    /// <summary>
    /// Delivers to a Chip Ingress compatible gRPC service configured from <paramref name="section"/>
    /// (<c>Loop:Emitter:Ingress</c>: <c>Endpoint</c>, <c>PublishTimeout</c>, <c>BatchSize</c>, ...); errors name the
    /// configuration path.
    /// </summary>
    public static IDurableEmitterBuilder UseGrpcIngress(this IDurableEmitterBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return UseGrpcIngress(builder, section, null);
    }

    private static IDurableEmitterBuilder UseGrpcIngress(IDurableEmitterBuilder builder, IConfigurationSection? section, Action<GrpcIngressOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.Configure<DurableEmitterSetup>(s => s.Transport = "grpc");
        ValidatedOptions.Add(services, Options.Options.DefaultName, section, static (b, s) => b.Bind(s), configure, new GrpcIngressOptionsValidator(), GrpcIngressOptions.Rules);
        services.TryAddSingleton(sp => new GrpcBatchEmitter(
            sp.GetRequiredService<IOptions<GrpcIngressOptions>>().Value,
            sp.GetService<IIngressHeaderProvider>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<GrpcBatchEmitter>>()));
        services.Replace(ServiceDescriptor.Singleton<IBatchEmitter>(sp => sp.GetRequiredService<GrpcBatchEmitter>()));
        return builder;
    }

    /// <summary>Hands batches to <paramref name="subscriber"/> in this process instead of a remote ingress.</summary>
    public static IDurableEmitterBuilder UseInMemoryTransport(
        this IDurableEmitterBuilder builder,
        Func<IServiceProvider, Func<IReadOnlyList<CloudEvent>, CancellationToken, ValueTask>> subscriber,
        Action<BatchingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(subscriber);
        builder.Services.Configure<DurableEmitterSetup>(s => s.Transport = "memory");
        builder.Services.Replace(ServiceDescriptor.Singleton<IBatchEmitter>(sp =>
        {
            var options = new BatchingOptions();
            configure?.Invoke(options);
            return new InMemoryBatchEmitter(subscriber(sp), options, sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<InMemoryBatchEmitter>>());
        }));
        return builder;
    }

    private static DurableEventEmitter CreateEmitter(IServiceProvider services)
    {
        // Reading the setup runs its validation first, so a missing store or transport is named rather than
        // surfacing as "no service registered".
        _ = services.GetRequiredService<IOptions<DurableEmitterSetup>>().Value;
        return new DurableEventEmitter(
            services.GetRequiredService<IDurableEventStore>(),
            services.GetRequiredService<IBatchEmitter>(),
            services.GetRequiredService<IOptions<DurableEmitterOptions>>().Value,
            services.GetService<ILogger<DurableEventEmitter>>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetService<IMeterFactory>());
    }

    private sealed class DurableEmitterBuilder(IServiceCollection services) : IDurableEmitterBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
