using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Loop.Options;

/// <summary>The one way every Loop package registers an options type: bound, validated at start, every error at once with its path.</summary>
internal static class ValidatedOptions
{
    /// <summary>
    /// Registers <typeparamref name="TOptions"/> under <paramref name="name"/>: bound from <paramref name="section"/> when
    /// given (by <paramref name="bind"/>, written where the type is concrete so that the configuration binder's source
    /// generator binds it without reflection), then <paramref name="configure"/>, validated on start by
    /// <paramref name="generated"/> (the <c>[OptionsValidator]</c> of the type) and <paramref name="rules"/> (the rules
    /// across properties).
    /// </summary>
    public static OptionsBuilder<TOptions> Add<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        IServiceCollection services,
        string name,
        IConfigurationSection? section,
        Action<OptionsBuilder<TOptions>, IConfigurationSection> bind,
        Action<TOptions>? configure,
        IValidateOptions<TOptions> generated,
        Func<TOptions, IEnumerable<(string Member, string Error)>>? rules = null)
        where TOptions : class
    {
        var builder = services.AddOptionsWithValidateOnStart<TOptions>(name);
        if (section is not null)
        {
            bind(builder, section);
        }

        if (configure is not null)
        {
            builder.Configure(configure);
        }

        // One validator per options name, however often the options are registered: a second would report every error
        // twice. The last section bound names the paths (a later call binding configuration over code-set options).
        var earlier = services.FirstOrDefault(d => d.ServiceType == typeof(IValidateOptions<TOptions>)
            && d.ImplementationInstance is PathedOptionsValidator<TOptions> v && v.Name == name);
        var path = section?.Path ?? (earlier?.ImplementationInstance as PathedOptionsValidator<TOptions>)?.SectionPath;
        if (earlier is not null)
        {
            services.Remove(earlier);
        }

        services.AddSingleton<IValidateOptions<TOptions>>(new PathedOptionsValidator<TOptions>(name, path, generated, rules));
        return builder;
    }
}
