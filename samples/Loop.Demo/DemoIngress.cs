using Grpc.Core;
using Loop.DurableEmitter.Ingress;
using Loop.Events.CloudEvents;

namespace Loop.Demo;

/// <summary>A Chip Ingress compatible service that prints every event it receives.</summary>
public sealed partial class DemoIngress(ILogger<DemoIngress> logger) : ChipIngress.ChipIngressBase
{
    /// <inheritdoc />
    public override Task<PublishResponse> Publish(CloudEvent request, ServerCallContext context) => Task.FromResult(Accept([request]));

    /// <inheritdoc />
    public override Task<PublishResponse> PublishBatch(Loop.DurableEmitter.Ingress.CloudEventBatch request, ServerCallContext context) =>
        Task.FromResult(Accept(request.Events));

    /// <inheritdoc />
    public override Task<PingResponse> Ping(EmptyRequest request, ServerCallContext context) => Task.FromResult(new PingResponse { Message = "pong" });

    private PublishResponse Accept(IEnumerable<CloudEvent> events)
    {
        var response = new PublishResponse();
        foreach (var e in events)
        {
            var seqnum = e.Attributes.TryGetValue("seqnum", out var s) ? s.CeString : "-";
            LogReceived(logger, e.Type, e.Source, seqnum, e.ProtoData?.Value.ToStringUtf8() ?? string.Empty, e.Id);
            response.Results.Add(new PublishResult { EventId = e.Id });
        }

        return response;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "ingress received {Type} from {Source} seqnum={Seqnum} body=\"{Body}\" id={Id}")]
    private static partial void LogReceived(ILogger logger, string type, string source, string seqnum, string body, string id);
}
