namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures the durable emitter registered by <c>AddDurableEmitter</c>.</summary>
public interface IDurableEmitterBuilder
{
    /// <summary>The service collection the emitter is registered in.</summary>
    IServiceCollection Services { get; }
}
