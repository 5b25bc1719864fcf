namespace Microsoft.Extensions.DependencyInjection;

/// <summary>What <c>AddVisor</c> returns: add upgrade sources with <c>AddUpgradeSource</c>.</summary>
public interface IVisorBuilder
{
    /// <summary>The service collection Visor is registered in.</summary>
    IServiceCollection Services { get; }
}
