using Loop.Options;
using Loop.Visor;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Hosts Loop Visor in a .NET host.</summary>
public static class VisorServiceCollectionExtensions
{
    /// <summary>
    /// Runs Visor on the home folder from <paramref name="configure"/> as a hosted service, with a health check named
    /// <c>visor</c>. The options and the home are checked when the host starts (the home must exist and hold a valid
    /// config.toml), every error at once. Extra <see cref="IUpgradeSource"/>s registered in the container are polled too.
    /// </summary>
    public static IVisorBuilder AddVisor(this IServiceCollection services, Action<VisorHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddVisor(services, null, configure);
    }

    /// <summary>
    /// <see cref="AddVisor(IServiceCollection, Action{VisorHostOptions})"/> with the options bound from
    /// <paramref name="section"/> (<c>builder.Configuration.GetSection("Loop:Visor")</c>: <c>Home</c>,
    /// <c>StopHostWhenVisorExits</c>, <c>Service:PollInterval</c>, ...); errors name the configuration path
    /// (<c>Loop:Visor:Service:PollInterval must be positive (was 00:00:00)</c>).
    /// </summary>
    public static IVisorBuilder AddVisor(this IServiceCollection services, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddVisor(services, section, null);
    }

    private static IVisorBuilder AddVisor(IServiceCollection services, IConfigurationSection? section, Action<VisorHostOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ValidatedOptions.Add(services, Options.Options.DefaultName, section, static (b, s) => b.Bind(s), configure, new VisorHostOptionsValidator(), VisorHostOptions.Rules);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<VisorHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<VisorHostedService>());
        services.AddHealthChecks().AddCheck<VisorHealthCheck>("visor", tags: ["loop", "visor"]);
        return new VisorBuilder(services);
    }

    /// <summary>
    /// Polls <typeparamref name="TSource"/> for upgrades too (a singleton from the container), beside config.toml's
    /// upgrade-info file and the run config's status RPC.
    /// </summary>
    public static IVisorBuilder AddUpgradeSource<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] TSource>(this IVisorBuilder builder)
        where TSource : class, IUpgradeSource
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IUpgradeSource, TSource>();
        return builder;
    }

    /// <summary>Polls the source <paramref name="factory"/> makes for upgrades too.</summary>
    public static IVisorBuilder AddUpgradeSource(this IVisorBuilder builder, Func<IServiceProvider, IUpgradeSource> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.AddSingleton(factory);
        return builder;
    }

    private sealed class VisorBuilder(IServiceCollection services) : IVisorBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
