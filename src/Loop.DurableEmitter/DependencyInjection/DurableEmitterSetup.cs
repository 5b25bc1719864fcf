using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>Which store and transport the DI registration chose; validated at start so a missing choice is named.</summary>
internal sealed class DurableEmitterSetup
{
    public string? Store { get; set; }

    public string? Transport { get; set; }
}

/// <summary>Validates the emitter's options and setup when the host starts; each message names the bad setting.</summary>
internal sealed class DurableEmitterOptionsValidator :
    IValidateOptions<DurableEmitterOptions>,
    IValidateOptions<DurableEmitterSetup>,
    IValidateOptions<PgDurableEventStoreOptions>,
    IValidateOptions<GrpcIngressOptions>
{
    public ValidateOptionsResult Validate(string? name, DurableEmitterOptions options) => Result(options.Validate());

    public ValidateOptionsResult Validate(string? name, PgDurableEventStoreOptions options) => Result(options.Validate());

    public ValidateOptionsResult Validate(string? name, GrpcIngressOptions options) => Result(options.Validate());

    public ValidateOptionsResult Validate(string? name, DurableEmitterSetup options) => Result(
        options.Store is null ? "The durable emitter has no store: call UsePostgres(...) or UseInMemoryStore() on AddDurableEmitter()."
        : options.Transport is null ? "The durable emitter has no transport: call UseGrpcIngress(...) or UseInMemoryTransport(...) on AddDurableEmitter()."
        : null);

    private static ValidateOptionsResult Result(string? error) =>
        error is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(error);
}
