using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Loop.Plugins.Sdk;

/// <summary>What a .NET plugin serves (<see cref="LoopPluginServer.RunAsync"/>).</summary>
public sealed class LoopPluginServerOptions
{
    /// <summary>The handshake the host expects (cookie and app protocol versions).</summary>
    public required HandshakeConfig Handshake { get; init; }

    /// <summary>Registers the plugin's services.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>
    /// The plugin's own gRPC services as singletons, bound through their generated <c>BindService</c>:
    /// <c>(binder, services) =&gt; Echo.BindService(binder, services.GetRequiredService&lt;EchoService&gt;())</c>.
    /// Bound without the reflection lookups of <see cref="MapServices"/> (which activates a service per call), which
    /// matters most to a Native AOT plugin's start.
    /// </summary>
    public IReadOnlyList<Action<ServiceBinderBase, IServiceProvider>> Services { get; init; } = [];

    /// <summary>Where the plugin listens: a Unix socket, or loopback TCP (the default on Windows, as go-plugin does).</summary>
    public PluginNetwork Network { get; init; } = OperatingSystem.IsWindows() ? PluginNetwork.Tcp : PluginNetwork.Unix;

    /// <summary>Maps the plugin's own gRPC services (<c>endpoints.MapGrpcService&lt;T&gt;()</c>).</summary>
    public Action<IEndpointRouteBuilder>? MapServices { get; init; }

    /// <summary>Meters exported on <c>/metrics</c>. Default: every meter.</summary>
    public IReadOnlyList<string> Meters { get; init; } = ["*"];

    /// <summary>Activity sources traced when <c>CL_TRACING_ENABLED</c> (incoming gRPC calls are always traced then).</summary>
    public IReadOnlyList<string> ActivitySources { get; init; } = [];

    /// <summary>The environment to read (tests); the process's own when null.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Where the handshake line goes. Default stdout.</summary>
    public TextWriter? Stdout { get; init; }

    /// <summary>Where logs (hclog JSON) go. Default stderr.</summary>
    public TextWriter? Stderr { get; init; }

    /// <summary>The default of <see cref="HostCheckInterval"/>: 1 s.</summary>
    public static readonly TimeSpan DefaultHostCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often the plugin checks that the host that started it is still its parent; when the host is gone (killed
    /// with SIGKILL, say) the plugin stops, so no plugin outlives its host. <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    /// <value>Default <see cref="DefaultHostCheckInterval"/>.</value>
    public TimeSpan HostCheckInterval { get; init; } = DefaultHostCheckInterval;
}
