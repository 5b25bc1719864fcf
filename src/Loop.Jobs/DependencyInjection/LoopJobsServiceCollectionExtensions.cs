using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Loop.Hosting;
using Loop.Jobs;
using Loop.Jobs.Stores.InMemory;
using Loop.Jobs.Stores.Postgres;
using Loop.Jobs.Tasks.BuiltIn;
using Loop.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the job service in a service collection.</summary>
public static class LoopJobsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="JobService"/> (and <see cref="IJobService"/>) as a singleton run by a hosted service, with a
    /// health check named <c>Jobs</c>. Choose a store (<see cref="UsePostgres(ILoopJobsBuilder, string, Action{PgJobStoreOptions})"/>
    /// or <see cref="UseInMemoryStore"/>); options are validated when the host starts, every error at once.
    /// </summary>
    public static ILoopJobsBuilder AddLoopJobs(this IServiceCollection services) => AddLoopJobs(services, null, null);

    /// <summary><see cref="AddLoopJobs(IServiceCollection)"/>, with <paramref name="configure"/> setting the options.</summary>
    public static ILoopJobsBuilder AddLoopJobs(this IServiceCollection services, Action<LoopJobsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddLoopJobs(services, null, configure);
    }

    /// <summary>
    /// <see cref="AddLoopJobs(IServiceCollection)"/> with <see cref="LoopJobsOptions"/> bound from <paramref name="section"/>
    /// (<c>builder.Configuration.GetSection("Loop:Jobs")</c>); errors name the configuration path.
    /// </summary>
    public static ILoopJobsBuilder AddLoopJobs(this IServiceCollection services, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddLoopJobs(services, section, null);
    }

    /// <summary>Keeps jobs and runs in PostgreSQL (tables created at start); several hosts may share the database.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="connectionString">An Npgsql connection string. Its password is never logged.</param>
    /// <param name="configure">Schema and table prefix.</param>
    public static ILoopJobsBuilder UsePostgres(this ILoopJobsBuilder builder, string connectionString, Action<PgJobStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.Services.TryAddKeyedSingleton(nameof(JobService), (_, _) => NpgsqlDataSource.Create(connectionString));
        return UsePostgresDataSource(builder, sp => sp.GetRequiredKeyedService<NpgsqlDataSource>(nameof(JobService)), configure);
    }

    /// <summary>Keeps jobs and runs in PostgreSQL through the data source <paramref name="dataSource"/> resolves (the application owns it).</summary>
    /// <remarks>Schema and table prefix: <see cref="ConfigurePostgres"/>.</remarks>
    public static ILoopJobsBuilder UsePostgres(this ILoopJobsBuilder builder, Func<IServiceProvider, NpgsqlDataSource> dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return UsePostgresDataSource(builder, dataSource, null);
    }

    /// <summary>Sets the PostgreSQL store's schema and table prefix (with any <c>UsePostgres</c>).</summary>
    public static ILoopJobsBuilder ConfigurePostgres(this ILoopJobsBuilder builder, Action<PgJobStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Keeps jobs and runs in memory: nothing survives the process. For tests and single-process tools.</summary>
    public static ILoopJobsBuilder UseInMemoryStore(this ILoopJobsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<LoopJobsSetup>(s => s.Store = "memory");
        builder.Services.Replace(ServiceDescriptor.Singleton<IJobStore, MemJobStore>());
        return builder;
    }

    /// <summary>Adds the task type <typeparamref name="TTask"/> (a singleton), named in specs by its <see cref="IJobTask.Type"/>.</summary>
    public static ILoopJobsBuilder AddTask<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TTask>(this ILoopJobsBuilder builder)
        where TTask : class, IJobTask
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobTask, TTask>());
        return builder;
    }

    /// <summary>Adds the initiator type <typeparamref name="TInitiator"/> (a singleton), named in specs by its <see cref="IJobInitiator.Type"/>.</summary>
    public static ILoopJobsBuilder AddInitiator<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInitiator>(this ILoopJobsBuilder builder)
        where TInitiator : class, IJobInitiator
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobInitiator, TInitiator>());
        return builder;
    }

    /// <summary>Adds <paramref name="bridge"/> on start unless a bridge of its name is stored (validated then, naming each problem).</summary>
    public static ILoopJobsBuilder AddBridge(this ILoopJobsBuilder builder, BridgeSpec bridge)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(bridge);
        builder.Services.AddSingleton(bridge);
        return builder;
    }

    /// <summary>Uses <paramref name="heads"/> for confirmations and connection state (a <see cref="ManualHeadTracker"/>, or a chain's tracker).</summary>
    public static ILoopJobsBuilder UseHeadTracker(this ILoopJobsBuilder builder, Func<IServiceProvider, IHeadTracker> heads)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(heads);
        builder.Services.Replace(ServiceDescriptor.Singleton(heads));
        return builder;
    }

    /// <summary>
    /// Tracks the chain's heads from the source <paramref name="source"/> resolves with a <see cref="HeadTracker"/>
    /// (started and stopped with the host, with a health check named <c>HeadTracker</c>), its head kept in the job store;
    /// runs waiting for confirmations resume as heads arrive, and runs pending a connection when the source is back.
    /// </summary>
    public static ILoopJobsBuilder UseHeadSource(this ILoopJobsBuilder builder, Func<IServiceProvider, IHeadSource> source, Action<HeadTrackerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        var services = builder.Services;
        ValidatedOptions.Add(services, Options.Options.DefaultName, null, static (b, s) => b.Bind(s), configure, new HeadTrackerOptionsValidator(), HeadTrackerOptions.Rules);
        services.TryAddSingleton(sp => new HeadTracker(
            source(sp),
            sp.GetRequiredService<IJobStore>(),
            sp.GetRequiredService<IOptions<HeadTrackerOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        services.Replace(ServiceDescriptor.Singleton<IHeadTracker>(sp => sp.GetRequiredService<HeadTracker>()));
        services.AddLoopService("HeadTracker", sp => sp.GetRequiredService<HeadTracker>());
        return builder;
    }

    private static ILoopJobsBuilder AddLoopJobs(IServiceCollection services, IConfigurationSection? section, Action<LoopJobsOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(LoopJobsMarker)))
        {
            throw new InvalidOperationException("AddLoopJobs was called twice on this service collection. One job service serves the host: configure it in one call.");
        }

        services.AddSingleton<LoopJobsMarker>();
        ValidatedOptions.Add(services, Options.Options.DefaultName, section, static (b, s) => b.Bind(s), configure, new LoopJobsOptionsValidator(), LoopJobsOptions.Rules);
        services.AddOptions<LoopJobsSetup>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LoopJobsSetup>, LoopJobsSetupValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(JobsHttp.ClientName)
            .ConfigureHttpClient((sp, client) => client.Timeout = sp.GetRequiredService<IOptions<LoopJobsOptions>>().Value.HttpTimeout);
        services.TryAddSingleton(sp => new JobService(
            // Reading the setup first runs its validation, so a missing store is named rather than "no service registered".
            sp.GetRequiredService<IOptions<LoopJobsSetup>>().Value.Store is not null ? sp.GetRequiredService<IJobStore>() : null!,
            sp.GetRequiredService<IOptions<LoopJobsOptions>>().Value,
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetServices<IJobTask>(),
            sp.GetServices<IJobInitiator>(),
            sp.GetService<IHeadTracker>(),
            sp.GetService<Loop.DurableEmitter.IDurableEventEmitter>(),
            sp.GetServices<BridgeSpec>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IJobService>(sp => sp.GetRequiredService<JobService>());
        services.AddLoopService("Jobs", sp => sp.GetRequiredService<JobService>());
        return new LoopJobsBuilder(services);
    }

    private static ILoopJobsBuilder UsePostgresDataSource(ILoopJobsBuilder builder, Func<IServiceProvider, NpgsqlDataSource> dataSource, Action<PgJobStoreOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.Configure<LoopJobsSetup>(s => s.Store = "postgres");
        ValidatedOptions.Add(services, Options.Options.DefaultName, null, static (b, s) => b.Bind(s), configure, new PgJobStoreOptionsValidator(), PgJobStoreOptions.Rules);
        services.Replace(ServiceDescriptor.Singleton<IJobStore>(sp => new PgJobStore(dataSource(sp), sp.GetRequiredService<IOptions<PgJobStoreOptions>>().Value)));
        return builder;
    }

    private sealed class LoopJobsMarker;

    private sealed class LoopJobsBuilder(IServiceCollection services) : ILoopJobsBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
