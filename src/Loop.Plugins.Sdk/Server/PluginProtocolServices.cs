using Grpc.Core;
using Loop.Plugins.Protocol;
using Microsoft.Extensions.Hosting;

namespace Loop.Plugins.Sdk;

/// <summary><c>plugin.GRPCController</c>: Shutdown stops the plugin (after the reply is sent).</summary>
internal sealed class ControllerService(IHostApplicationLifetime lifetime) : GRPCController.GRPCControllerBase
{
    public override Task<Protocol.Empty> Shutdown(Protocol.Empty request, ServerCallContext context)
    {
        Task Stop()
        {
            lifetime.StopApplication();
            return Task.CompletedTask;
        }

        if (context is Grpc.GrpcCall call)
        {
            call.OnCompleted(Stop);
        }
        else
        {
            context.GetHttpContext().Response.OnCompleted(Stop);
        }

        return Task.FromResult(new Protocol.Empty());
    }
}

/// <summary>
/// <c>plugin.GRPCBroker</c>: the host opens this stream right after connecting; the plugin's <see cref="PluginBroker"/>
/// announces its sub-services on it and learns the host's.
/// </summary>
internal sealed class BrokerService(PluginBroker broker) : GRPCBroker.GRPCBrokerBase
{
    public override async Task StartStream(IAsyncStreamReader<ConnInfo> requestStream, IServerStreamWriter<ConnInfo> responseStream, ServerCallContext context)
    {
        broker.Attach(info => responseStream.WriteAsync(info, context.CancellationToken));
        try
        {
            while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                broker.OnReceived(requestStream.Current);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The host reset the stream: that is how a host leaves (a stop, a Go host closing its broker), and whether
            // the read sees a cancellation or "the client reset the request stream" is a race. Not an error, and no
            // stack trace in the host's log.
        }
    }
}

/// <summary><c>plugin.GRPCStdio</c>: streams the plugin's console output (after the handshake) to the host.</summary>
internal sealed class StdioService(StdioForwarder forwarder, IHostApplicationLifetime lifetime) : GRPCStdio.GRPCStdioBase
{
    public override async Task StreamStdio(Google.Protobuf.WellKnownTypes.Empty request, IServerStreamWriter<StdioData> responseStream, ServerCallContext context)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await foreach (var data in forwarder.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(data, stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The host went away or reset the stream (see BrokerService).
        }
    }
}
