using Loop.Visor;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Hosts Loop Visor in a .NET host.</summary>
public static class VisorServiceCollectionExtensions
{
    /// <summary>
    /// Runs Visor on the home folder from <paramref name="configure"/> as a hosted service. The home folder is checked
    /// when the host starts (it must exist and hold a valid config.toml). Extra <see cref="IUpgradeSource"/>s registered
    /// in the container are polled too.
    /// </summary>
    public static IServiceCollection AddVisor(this IServiceCollection services, Action<VisorHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<VisorHostOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VisorHostOptions>, VisorHostOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<VisorHostedService>();
        return services;
    }

    private sealed class VisorHostOptionsValidator : IValidateOptions<VisorHostOptions>
    {
        public ValidateOptionsResult Validate(string? name, VisorHostOptions options)
        {
            if (string.IsNullOrWhiteSpace(options.Home))
            {
                return ValidateOptionsResult.Fail("VisorHostOptions.Home is required.");
            }

            var home = new VisorHome(options.Home);
            if (!File.Exists(home.ConfigPath))
            {
                return ValidateOptionsResult.Fail($"VisorHostOptions.Home: {home.ConfigPath} does not exist (create the home with loop-visor init).");
            }

            try
            {
                VisorConfigFile.Load(home.ConfigPath);
                return ValidateOptionsResult.Success;
            }
            catch (VisorConfigException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message);
            }
        }
    }
}
