using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Loop.Plugins.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Loop.Plugins.Sdk;

/// <summary>
/// go-plugin's protocol services (health, controller, broker, stdio) added to the endpoints directly. Going through the
/// generated <c>BindService</c> calls the generic virtual <c>ServiceBinderBase.AddMethod</c>, whose every
/// instantiation Native AOT builds at run time: ~2 ms of the plugin's start for these five methods.
/// </summary>
internal static class ProtocolMethods
{
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Check =
        new(MethodType.Unary, "grpc.health.v1.Health", "Check", Protobuf(HealthCheckRequest.Parser), Protobuf(HealthCheckResponse.Parser));

    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch =
        new(MethodType.ServerStreaming, "grpc.health.v1.Health", "Watch", Protobuf(HealthCheckRequest.Parser), Protobuf(HealthCheckResponse.Parser));

    private static readonly Method<Protocol.Empty, Protocol.Empty> Shutdown =
        new(MethodType.Unary, "plugin.GRPCController", "Shutdown", Protobuf(Protocol.Empty.Parser), Protobuf(Protocol.Empty.Parser));

    private static readonly Method<ConnInfo, ConnInfo> StartStream =
        new(MethodType.DuplexStreaming, "plugin.GRPCBroker", "StartStream", Protobuf(ConnInfo.Parser), Protobuf(ConnInfo.Parser));

    private static readonly Method<Google.Protobuf.WellKnownTypes.Empty, StdioData> StreamStdio =
        new(MethodType.ServerStreaming, "plugin.GRPCStdio", "StreamStdio", Protobuf(Google.Protobuf.WellKnownTypes.Empty.Parser), Protobuf(StdioData.Parser));

    /// <summary>Adds the methods to Grpc.AspNetCore's endpoints (the ASP.NET Core host).</summary>
    public static void Add(ServiceMethodProviderContext<BoundServices> context, IServiceProvider services)
    {
        var health = services.GetRequiredService<HealthServiceImpl>();
        var controller = services.GetRequiredService<ControllerService>();
        var broker = services.GetRequiredService<BrokerService>();
        var stdio = services.GetRequiredService<StdioService>();
        var post = BoundServicesMethodProvider.Metadata;
        context.AddUnaryMethod(Check, post, (_, request, call) => health.Check(request, call));
        context.AddServerStreamingMethod(Watch, post, (_, request, stream, call) => health.Watch(request, stream, call));
        context.AddUnaryMethod(Shutdown, post, (_, request, call) => controller.Shutdown(request, call));
        context.AddDuplexStreamingMethod(StartStream, post, (_, requests, stream, call) => broker.StartStream(requests, stream, call));
        context.AddServerStreamingMethod(StreamStdio, post, (_, request, stream, call) => stdio.StreamStdio(request, stream, call));
    }

    /// <summary>Adds the methods to the SDK's own dispatch (<see cref="BareKestrelHost"/>).</summary>
    public static void Add(Grpc.GrpcMethodTable table, IServiceProvider services)
    {
        var health = services.GetRequiredService<HealthServiceImpl>();
        var controller = services.GetRequiredService<ControllerService>();
        var broker = services.GetRequiredService<BrokerService>();
        var stdio = services.GetRequiredService<StdioService>();
        table.Add(new Grpc.UnaryMethod<HealthCheckRequest, HealthCheckResponse>(Check, health.Check));
        table.Add(new Grpc.ServerStreamingMethod<HealthCheckRequest, HealthCheckResponse>(Watch, health.Watch));
        table.Add(new Grpc.UnaryMethod<Protocol.Empty, Protocol.Empty>(Shutdown, controller.Shutdown));
        table.Add(new Grpc.DuplexStreamingMethod<ConnInfo, ConnInfo>(StartStream, broker.StartStream));
        table.Add(new Grpc.ServerStreamingMethod<Google.Protobuf.WellKnownTypes.Empty, StdioData>(StreamStdio, stdio.StreamStdio));
    }

    private static Marshaller<T> Protobuf<T>(MessageParser<T> parser)
        where T : IMessage<T> =>
        Marshallers.Create(message => message.ToByteArray(), parser.ParseFrom);
}
