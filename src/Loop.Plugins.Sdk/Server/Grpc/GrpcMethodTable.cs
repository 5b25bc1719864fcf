using System.Collections.Frozen;
using Grpc.Core;

namespace Loop.Plugins.Sdk.Grpc;

/// <summary>
/// The plugin server's methods by path, filled through a generated <c>BindService(ServiceBinderBase, impl)</c> or added
/// directly (go-plugin's protocol methods, whose generic binder calls Native AOT would build at run time).
/// </summary>
internal sealed class GrpcMethodTable : ServiceBinderBase
{
    private readonly Dictionary<string, GrpcMethod> _methods = new(StringComparer.Ordinal);
    private FrozenDictionary<string, GrpcMethod>? _frozen;

    /// <summary>The method at <paramref name="path"/> (<c>/package.Service/Method</c>).</summary>
    public bool TryGet(string path, out GrpcMethod method) =>
        (_frozen ??= _methods.ToFrozenDictionary(StringComparer.Ordinal)).TryGetValue(path, out method!);

    public void Add(GrpcMethod method)
    {
        if (_frozen is not null)
        {
            throw new InvalidOperationException("Methods are added before the server starts.");
        }

        if (!_methods.TryAdd(method.Path, method))
        {
            throw new InvalidOperationException($"The gRPC method {method.Path} is bound twice.");
        }
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        Add(new UnaryMethod<TRequest, TResponse>(method, Required(method, handler)));

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        Add(new ServerStreamingMethod<TRequest, TResponse>(method, Required(method, handler)));

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        Add(new ClientStreamingMethod<TRequest, TResponse>(method, Required(method, handler)));

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        Add(new DuplexStreamingMethod<TRequest, TResponse>(method, Required(method, handler)));

    /// <summary>The handler a generated <c>BindService</c> passed; a null one (an unimplemented service) is an error naming the method.</summary>
    internal static T Required<T>(IMethod method, T? handler)
        where T : Delegate =>
        handler ?? throw new InvalidOperationException($"{method.FullName} was bound without an implementation (BindService(binder, null))");
}

/// <summary>One bound method: reads its request(s), runs the handler, writes its response(s).</summary>
internal abstract class GrpcMethod(IMethod method)
{
    public string Path { get; } = method.FullName;

    public string Service { get; } = method.ServiceName;

    public string Name { get; } = method.Name;

    public abstract Task InvokeAsync(GrpcCall call);

    protected static async Task<T> ReadOneAsync<T>(GrpcCall call, Marshaller<T> marshaller)
    {
        var (read, message) = await GrpcFrames.ReadAsync(call.Body, marshaller, call.CancellationToken).ConfigureAwait(false);
        return read ? message : throw new RpcException(new Status(StatusCode.Internal, "The request carried no message."));
    }
}

internal sealed class UnaryMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler) : GrpcMethod(method)
    where TRequest : class
    where TResponse : class
{
    public override async Task InvokeAsync(GrpcCall call)
    {
        var request = await ReadOneAsync(call, method.RequestMarshaller).ConfigureAwait(false);
        var response = await handler(request, call).ConfigureAwait(false);
        await call.WriteAsync(method.ResponseMarshaller, response, call.CancellationToken).ConfigureAwait(false);
    }
}

internal sealed class ServerStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler) : GrpcMethod(method)
    where TRequest : class
    where TResponse : class
{
    public override async Task InvokeAsync(GrpcCall call)
    {
        var request = await ReadOneAsync(call, method.RequestMarshaller).ConfigureAwait(false);
        await handler(request, new GrpcResponseStream<TResponse>(call, method.ResponseMarshaller), call).ConfigureAwait(false);
    }
}

internal sealed class ClientStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler) : GrpcMethod(method)
    where TRequest : class
    where TResponse : class
{
    public override async Task InvokeAsync(GrpcCall call)
    {
        var response = await handler(new GrpcRequestStream<TRequest>(call, method.RequestMarshaller), call).ConfigureAwait(false);
        await call.WriteAsync(method.ResponseMarshaller, response, call.CancellationToken).ConfigureAwait(false);
    }
}

internal sealed class DuplexStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler) : GrpcMethod(method)
    where TRequest : class
    where TResponse : class
{
    public override Task InvokeAsync(GrpcCall call) =>
        handler(new GrpcRequestStream<TRequest>(call, method.RequestMarshaller), new GrpcResponseStream<TResponse>(call, method.ResponseMarshaller), call);
}
