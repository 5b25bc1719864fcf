using System.Diagnostics.CodeAnalysis;
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
    /// <c>DurableEmitter</c>. Choose a store (<see cref="UsePostgres(IDurableEmitterBuilder, string, Action{PgDurableEventStoreOptions})"/> or <see cref="UseInMemoryStore"/>) and a transport
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

        // One emitter per service collection: a second registration would share the first's store and transport while
        // binding other options, and used to fail only at start, on a duplicate health check name.
        if (services.Any(d => d.ServiceType == typeof(DurableEmitterMarker)))
        {
            throw new InvalidOperationException(
                "AddDurableEmitter was called twice on this service collection. One emitter serves the host: configure it in one call " +
                "(options from one configuration section, one store, one transport), and share its IDurableEventEmitter.");
        }

        services.AddSingleton<DurableEmitterMarker>();
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
        builder.Services.TryAddKeyedSingleton(nameof(DurableEventEmitter), (_, _) => NpgsqlDataSource.Create(connectionString));
        return UsePostgresDataSource(builder, sp => sp.GetRequiredKeyedService<NpgsqlDataSource>(nameof(DurableEventEmitter)), configure);
    }

    /// <summary>
    /// Stores events in PostgreSQL through the application's own <paramref name="dataSource"/> (its logging, metrics,
    /// pooling and multiplexing settings apply); the application owns it. The table is created at start.
    /// </summary>
    /// <remarks>Table and insert options: <see cref="ConfigurePostgres"/>.</remarks>
    public static IDurableEmitterBuilder UsePostgres(this IDurableEmitterBuilder builder, NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return UsePostgresDataSource(builder, _ => dataSource, null);
    }

    /// <summary>
    /// Stores events in PostgreSQL through the data source <paramref name="dataSource"/> resolves, for example
    /// <c>sp => sp.GetRequiredService&lt;NpgsqlDataSource&gt;()</c> after Npgsql's <c>AddNpgsqlDataSource</c>.
    /// </summary>
    /// <remarks>Table and insert options: <see cref="ConfigurePostgres"/>.</remarks>
    public static IDurableEmitterBuilder UsePostgres(this IDurableEmitterBuilder builder, Func<IServiceProvider, NpgsqlDataSource> dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return UsePostgresDataSource(builder, dataSource, null);
    }

    /// <summary>Sets the PostgreSQL store's table and insert options (with any <c>UsePostgres</c>).</summary>
    public static IDurableEmitterBuilder ConfigurePostgres(this IDurableEmitterBuilder builder, Action<PgDurableEventStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    private static IDurableEmitterBuilder UsePostgresDataSource(
        IDurableEmitterBuilder builder, Func<IServiceProvider, NpgsqlDataSource> dataSource, Action<PgDurableEventStoreOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.Configure<DurableEmitterSetup>(s => s.Store = "postgres");
        ValidatedOptions.Add(services, Options.Options.DefaultName, null, static (b, s) => b.Bind(s), configure, new PgDurableEventStoreOptionsValidator(), PgDurableEventStoreOptions.Rules);
        services.Replace(ServiceDescriptor.Singleton<IDurableEventStore>(sp => new PgDurableEventStore(
            dataSource(sp),
            sp.GetRequiredService<IOptions<PgDurableEventStoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>())));
        return builder;
    }

    /// <summary>
    /// Stores events in PostgreSQL with the connection string named <paramref name="name"/> in the application's
    /// configuration (<c>ConnectionStrings:&lt;name&gt;</c>). A missing or malformed one fails the start, naming where
    /// it was looked for.
    /// </summary>
    public static IDurableEmitterBuilder UsePostgresConnectionString(this IDurableEmitterBuilder builder, string name, Action<PgDurableEventStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.Configure<DurableEmitterSetup>(s => s.ConnectionStringName = name);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableEmitterSetup>, ConnectionStringValidator>());
        builder.Services.TryAddKeyedSingleton(nameof(DurableEventEmitter), (sp, _) =>
            NpgsqlDataSource.Create(sp.GetRequiredService<IConfiguration>().GetConnectionString(name)!));
        return UsePostgresDataSource(builder, sp => sp.GetRequiredKeyedService<NpgsqlDataSource>(nameof(DurableEventEmitter)), configure);
    }

    /// <summary>
    /// Stores events and delivers none: for processes that write into a table a host shares and delivers from. Choose
    /// a store as usual; no transport is needed, and no loop runs (see <see cref="DurableEmitterOptions.StoreOnly"/>).
    /// </summary>
    public static IDurableEmitterBuilder UseStoreOnly(this IDurableEmitterBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<DurableEmitterSetup>(s => s.Transport = "none");
        builder.Services.PostConfigure<DurableEmitterOptions>(o => o.StoreOnly = true);
        builder.Services.Replace(ServiceDescriptor.Singleton<IBatchEmitter, StoreOnlyTransport>());
        return builder;
    }

    /// <summary>Delivers through any <see cref="IBatchEmitter"/> of the application's, made by the container.</summary>
    public static IDurableEmitterBuilder UseTransport<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TTransport>(this IDurableEmitterBuilder builder)
        where TTransport : class, IBatchEmitter
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TTransport>();
        return UseTransport(builder, sp => sp.GetRequiredService<TTransport>());
    }

    /// <summary>Delivers through the <see cref="IBatchEmitter"/> <paramref name="transport"/> makes.</summary>
    public static IDurableEmitterBuilder UseTransport(this IDurableEmitterBuilder builder, Func<IServiceProvider, IBatchEmitter> transport)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(transport);
        builder.Services.Configure<DurableEmitterSetup>(s => s.Transport = "custom");
        builder.Services.Replace(ServiceDescriptor.Singleton(transport));
        return builder;
    }

    /// <summary>Adds an observer of each event's delivery outcome (see <see cref="IDeliveryObserver"/>).</summary>
    public static IDurableEmitterBuilder AddDeliveryObserver<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TObserver>(this IDurableEmitterBuilder builder)
        where TObserver : class, IDeliveryObserver
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IDeliveryObserver, TObserver>());
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
        var emitterPath = services.Select(d => d.ImplementationInstance).OfType<PathedOptionsValidator<DurableEmitterOptions>>().FirstOrDefault()?.SectionPath;
        services.Replace(ServiceDescriptor.Singleton(new LeaseFitsIngressPaths(emitterPath, section?.Path)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableEmitterOptions>, LeaseFitsIngressValidator>());
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
            services.GetService<IMeterFactory>(),
            services.GetServices<IDeliveryObserver>());
    }

    private sealed class DurableEmitterMarker;

    private sealed class DurableEmitterBuilder(IServiceCollection services) : IDurableEmitterBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
