using Grpc.Core;
using Loop.Plugins.Protocol;
using Microsoft.Extensions.Hosting;

namespace Loop.Plugins;

/// <summary><c>plugin.GRPCController</c>: Shutdown stops the plugin (after the reply is sent).</summary>
internal sealed class ControllerService(IHostApplicationLifetime lifetime) : GRPCController.GRPCControllerBase
{
    public override Task<Protocol.Empty> Shutdown(Protocol.Empty request, ServerCallContext context)
    {
        context.GetHttpContext().Response.OnCompleted(() =>
        {
            lifetime.StopApplication();
            return Task.CompletedTask;
        });
        return Task.FromResult(new Protocol.Empty());
    }
}

/// <summary>
/// <c>plugin.GRPCBroker</c>: the host opens this stream right after connecting. Loop plugins do not broker
/// sub-connections yet, so the stream is held open and drained until the host closes it.
/// </summary>
internal sealed class BrokerService : GRPCBroker.GRPCBrokerBase
{
    public override async Task StartStream(IAsyncStreamReader<ConnInfo> requestStream, IServerStreamWriter<ConnInfo> responseStream, ServerCallContext context)
    {
        try
        {
            while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                // No brokered services are offered; requests for them are ignored.
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>
/// <c>plugin.GRPCStdio</c>: a .NET plugin writes nothing to stdout after the handshake and logs to stderr as hclog, so
/// the stream stays open and empty until the plugin stops.
/// </summary>
internal sealed class StdioService(IHostApplicationLifetime lifetime) : GRPCStdio.GRPCStdioBase
{
    public override async Task StreamStdio(Google.Protobuf.WellKnownTypes.Empty request, IServerStreamWriter<StdioData> responseStream, ServerCallContext context)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
