using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;

namespace Loop.Plugins.Sdk;

/// <summary>
/// The endpoints of go-plugin's protocol services and the plugin's singleton services (bound through their generated
/// <c>BindService(ServiceBinderBase, impl)</c>), under one route builder, without the reflection lookups (method,
/// delegate, attributes) of Grpc.AspNetCore's default discovery, which are slow under Native AOT.
/// </summary>
internal sealed class BoundServices
{
}

/// <summary>Feeds the bindings into <see cref="BoundServices"/>' endpoints.</summary>
internal sealed class BoundServicesMethodProvider(IServiceProvider services, IReadOnlyList<Action<ServiceBinderBase, IServiceProvider>> bindings)
    : IServiceMethodProvider<BoundServices>
{
    /// <summary>What Grpc.AspNetCore's own binder attaches to each method: gRPC is POST only.</summary>
    public static readonly IList<object> Metadata = [new HttpMethodMetadata(["POST"], acceptCorsPreflight: true)];

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<BoundServices> context)
    {
        ProtocolMethods.Add(context, services);
        var binder = new ContextBinder(context);
        foreach (var bind in bindings)
        {
            bind(binder, services);
        }
    }

    private sealed class ContextBinder(ServiceMethodProviderContext<BoundServices> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var bound = Grpc.GrpcMethodTable.Required(method, handler);
            context.AddUnaryMethod(method, Metadata, (_, request, call) => bound(request, call));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var bound = Grpc.GrpcMethodTable.Required(method, handler);
            context.AddServerStreamingMethod(method, Metadata, (_, request, stream, call) => bound(request, stream, call));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var bound = Grpc.GrpcMethodTable.Required(method, handler);
            context.AddClientStreamingMethod(method, Metadata, (_, requests, call) => bound(requests, call));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var bound = Grpc.GrpcMethodTable.Required(method, handler);
            context.AddDuplexStreamingMethod(method, Metadata, (_, requests, stream, call) => bound(requests, stream, call));
        }
    }
}
