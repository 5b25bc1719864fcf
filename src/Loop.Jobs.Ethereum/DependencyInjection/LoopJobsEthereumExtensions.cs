using System.Diagnostics.Metrics;
using Loop.Jobs;
using Loop.Jobs.Ethereum;
using Loop.Jobs.Ethereum.Initiators;
using Loop.Jobs.Ethereum.Telemetry;
using Loop.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts Loop.Jobs on an Ethereum chain.</summary>
public static class LoopJobsEthereumExtensions
{
    /// <summary>
    /// Listens to the Ethereum node at <paramref name="url"/> (<c>ws://</c> to subscribe, <c>http://</c> to poll): a
    /// <see cref="HeadTracker"/> over its heads drives confirmations and connection state, and the <c>ethlog</c> and
    /// <c>runlog</c> initiators start runs from its logs.
    /// </summary>
    public static ILoopJobsBuilder UseEthereum(this ILoopJobsBuilder builder, Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return UseEthereum(builder, null, o => o.Url = url);
    }

    /// <summary><see cref="UseEthereum(ILoopJobsBuilder, Uri)"/> with the options set by <paramref name="configure"/>.</summary>
    public static ILoopJobsBuilder UseEthereum(this ILoopJobsBuilder builder, Action<EthereumChainOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return UseEthereum(builder, null, configure);
    }

    /// <summary>
    /// <see cref="UseEthereum(ILoopJobsBuilder, Uri)"/> with the options bound from <paramref name="section"/>
    /// (<c>Loop:Jobs:Ethereum</c>); errors name the configuration path.
    /// </summary>
    public static ILoopJobsBuilder UseEthereum(this ILoopJobsBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return UseEthereum(builder, section, null);
    }

    private static ILoopJobsBuilder UseEthereum(ILoopJobsBuilder builder, IConfigurationSection? section, Action<EthereumChainOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        ValidatedOptions.Add(services, Options.Options.DefaultName, section, static (b, s) => b.Bind(s), configure, new EthereumChainOptionsValidator(), EthereumChainOptions.Rules);
        services.TryAddSingleton(sp => new EthereumChain(sp.GetRequiredService<IOptions<EthereumChainOptions>>().Value, sp.GetService<TimeProvider>()));
        services.TryAddSingleton<ILogSource>(sp => sp.GetRequiredService<EthereumChain>());
        services.TryAddSingleton(sp => new EthereumMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobInitiator, EthLogInitiator>(sp => new EthLogInitiator(sp.GetRequiredService<ILogSource>(), ChainOptions(sp), sp.GetRequiredService<EthereumMetrics>(), Loggers(sp))));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobInitiator, RunLogInitiator>(sp => new RunLogInitiator(sp.GetRequiredService<ILogSource>(), ChainOptions(sp), sp.GetRequiredService<EthereumMetrics>(), Loggers(sp))));
        builder.UseHeadSource(sp => sp.GetRequiredService<EthereumChain>());

        // The tracker keeps the chain's name and reconnects as the chain's options say.
        services.AddOptions<HeadTrackerOptions>().Configure<IOptions<EthereumChainOptions>>((tracker, chain) =>
        {
            tracker.Chain = chain.Value.Chain;
            tracker.ReconnectDelay = chain.Value.ReconnectDelay;
            tracker.MaxReconnectDelay = chain.Value.MaxReconnectDelay;
        });
        return builder;
    }

    private static EthereumChainOptions ChainOptions(IServiceProvider services) => services.GetRequiredService<IOptions<EthereumChainOptions>>().Value;

    private static ILoggerFactory Loggers(IServiceProvider services) => services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
}
