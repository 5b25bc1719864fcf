using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>Which store and transport the DI registration chose; validated at start so a missing choice is named.</summary>
internal sealed class DurableEmitterSetup
{
    public string? Store { get; set; }

    public string? Transport { get; set; }
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
            failures.Add("The durable emitter has no transport: call UseGrpcIngress(...) or UseInMemoryTransport(...) on AddDurableEmitter().");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
