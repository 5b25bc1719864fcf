using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>Which store and transport the DI registration chose; validated at start so a missing choice is named.</summary>
internal sealed class DurableEmitterSetup
{
    public string? Store { get; set; }

    public string? Transport { get; set; }

    public string? ConnectionStringName { get; set; }
}

/// <summary>Names a connection string that is missing or malformed, and where it was looked for, when the host starts.</summary>
internal sealed class ConnectionStringValidator(Microsoft.Extensions.Configuration.IConfiguration configuration) : IValidateOptions<DurableEmitterSetup>
{
    public ValidateOptionsResult Validate(string? name, DurableEmitterSetup options)
    {
        if (options.ConnectionStringName is not { } key)
        {
            return ValidateOptionsResult.Success;
        }

        var value = Microsoft.Extensions.Configuration.ConfigurationExtensions.GetConnectionString(configuration, key);
        if (string.IsNullOrWhiteSpace(value))
        {
            return ValidateOptionsResult.Fail($"ConnectionStrings:{key} is missing or empty: the durable emitter's store (UsePostgresConnectionString(\"{key}\")) looked for it in the application's configuration.");
        }

        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(value);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            // The message names the bad keyword; the value itself (which may hold a password) is not repeated.
            return ValidateOptionsResult.Fail($"ConnectionStrings:{key} is not a valid PostgreSQL connection string: {ex.Message}");
        }
    }
}

/// <summary>Names a missing store or transport when the host starts.</summary>
internal sealed class DurableEmitterSetupValidator : IValidateOptions<DurableEmitterSetup>
{
    public ValidateOptionsResult Validate(string? name, DurableEmitterSetup options)
    {
        var failures = new List<string>();
        if (options.Store is null)
        {
            failures.Add("The durable emitter has no store: call UsePostgres(...) or UseInMemoryStore() on AddDurableEmitter().");
        }

        if (options.Transport is null)
        {
            failures.Add("The durable emitter has no transport: call UseGrpcIngress(...), UseInMemoryTransport(...), UseTransport<T>() or UseStoreOnly() on AddDurableEmitter().");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// When the host starts: a row's lease (<see cref="DurableEmitterOptions.RetransmitAfter"/>) must exceed the ingress's
/// publish timeout, or no send could ever fit in it. Both values are named by where they were set.
/// </summary>
internal sealed class LeaseFitsIngressValidator(IServiceProvider services, LeaseFitsIngressPaths paths) : IValidateOptions<DurableEmitterOptions>
{
    public ValidateOptionsResult Validate(string? name, DurableEmitterOptions options)
    {
        if (options.StoreOnly)
        {
            return ValidateOptionsResult.Success;
        }

        GrpcIngressOptions ingress;
        try
        {
            ingress = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IOptions<GrpcIngressOptions>>(services).Value;
        }
        catch (OptionsValidationException)
        {
            // The ingress options report their own errors.
            return ValidateOptionsResult.Success;
        }

        var lease = paths.Emitter is null ? "DurableEmitterOptions.RetransmitAfter" : $"{paths.Emitter}:RetransmitAfter";
        var timeout = paths.Ingress is null ? "GrpcIngressOptions.PublishTimeout" : $"{paths.Ingress}:PublishTimeout";
        return EventDelivery.LeaseTooShort(options.RetransmitAfter, ingress.PublishTimeout, lease, $"the ingress's PublishTimeout ({ingress.PublishTimeout}, {timeout})") is { } tooShort
            ? ValidateOptionsResult.Fail(tooShort)
            : ValidateOptionsResult.Success;
    }
}

/// <summary>Where the emitter's and the ingress's options were bound from (null when set in code), for the lease check's message.</summary>
internal sealed record LeaseFitsIngressPaths(string? Emitter, string? Ingress);
