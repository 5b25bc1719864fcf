namespace Microsoft.Extensions.DependencyInjection;

/// <summary>What <c>AddLoopPlugins</c> returns: add the supervised plugins with <c>AddPlugin</c>.</summary>
public interface ILoopPluginsBuilder
{
    /// <summary>The service collection the plugin host is registered in.</summary>
    IServiceCollection Services { get; }
}
