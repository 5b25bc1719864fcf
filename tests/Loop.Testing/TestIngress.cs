using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Loop.DurableEmitter.Ingress;
using Loop.Events.CloudEvents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loop.Testing;

/// <summary>How <see cref="TestIngress"/> answers.</summary>
public enum IngressMode
{
    /// <summary>Accept every event.</summary>
    Accept,

    /// <summary>Fail every call with UNAVAILABLE.</summary>
    Unavailable,

    /// <summary>Answer each batch with a per-event VALIDATION_FAILED result for every other event.</summary>
    RejectEveryOther,

    /// <summary>Accept each call and never answer it (until the caller gives up).</summary>
    Hang,
}

/// <summary>
/// A real Chip Ingress compatible gRPC server on 127.0.0.1 (Kestrel, HTTP/2) that records what it receives. It can be
/// told to fail, and stopped and started again on the same port to simulate an outage.
/// </summary>
public sealed class TestIngress : IAsyncDisposable
{
    private WebApplication? _app;

    private TestIngress(int port) => Port = port;

    /// <summary>The port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The endpoint for <c>GrpcIngressOptions.Endpoint</c>.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>How calls are answered now.</summary>
    public IngressMode Mode { get; set; } = IngressMode.Accept;

    /// <summary>Every accepted event, in arrival order (duplicates included).</summary>
    public ConcurrentQueue<CloudEvent> Received { get; } = new();

    /// <summary>Accepted events by idempotency key, with how often each arrived.</summary>
    public ConcurrentDictionary<string, int> ByKey { get; } = new();

    /// <summary>The headers of the last call.</summary>
    public IReadOnlyDictionary<string, string> LastHeaders { get; private set; } = new Dictionary<string, string>();

    /// <summary>How many PublishBatch calls arrived.</summary>
    public int BatchCalls => _batchCalls;

    /// <summary>How many unary Publish calls arrived.</summary>
    public int UnaryCalls => _unaryCalls;

    /// <summary>
    /// Every PublishBatch call with its events and when it was open on the server (<see cref="System.Diagnostics.Stopwatch"/>
    /// timestamps): from arrival until answered, failed or abandoned by the caller.
    /// </summary>
    public ConcurrentQueue<IngressCall> Calls { get; } = new();

    /// <summary>Called with each accepted event (for example to print it).</summary>
    public Action<CloudEvent>? OnEvent { get; set; }

    private int _batchCalls;
    private int _unaryCalls;

    /// <summary>Starts an ingress on a free port.</summary>
    public static async Task<TestIngress> StartAsync(int? port = null)
    {
        var ingress = new TestIngress(port ?? FreePort.Next());
        await ingress.StartAgainAsync();
        return ingress;
    }

    /// <summary>Starts the server (again) on its port.</summary>
    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        builder.Services.AddSingleton(this);
        var app = builder.Build();
        app.MapGrpcService<Service>();
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops the server: connections are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();

    private PublishResponse Accept(IEnumerable<CloudEvent> events, ServerCallContext context)
    {
        LastHeaders = context.RequestHeaders.Where(h => !h.IsBinary).GroupBy(h => h.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        if (Mode == IngressMode.Unavailable)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "test ingress is unavailable"));
        }

        var response = new PublishResponse();
        var index = 0;
        foreach (var e in events)
        {
            var result = new PublishResult { EventId = e.Id };
            if (Mode == IngressMode.RejectEveryOther && index++ % 2 == 1)
            {
                result.Error = new PublishError { ErrorCode = PublishErrorCode.ValidationFailed, Reason = "test rejection" };
            }
            else
            {
                Received.Enqueue(e);
                var key = e.Attributes.TryGetValue("idempotencykey", out var k) ? k.CeString : e.Id;
                ByKey.AddOrUpdate(key, 1, (_, n) => n + 1);
                OnEvent?.Invoke(e);
            }

            response.Results.Add(result);
        }

        return response;
    }

    private sealed class Service(TestIngress ingress) : ChipIngress.ChipIngressBase
    {
        public override async Task<PublishResponse> Publish(CloudEvent request, ServerCallContext context)
        {
            Interlocked.Increment(ref ingress._unaryCalls);
            await HangIfToldAsync(context);
            return ingress.Accept([request], context);
        }

        public override async Task<PublishResponse> PublishBatch(Loop.DurableEmitter.Ingress.CloudEventBatch request, ServerCallContext context)
        {
            Interlocked.Increment(ref ingress._batchCalls);
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await HangIfToldAsync(context);
                return ingress.Accept(request.Events, context);
            }
            finally
            {
                ingress.Calls.Enqueue(new IngressCall(context.Peer, [.. request.Events.Select(e => e.Id)], start, System.Diagnostics.Stopwatch.GetTimestamp()));
            }
        }

        private Task HangIfToldAsync(ServerCallContext context) =>
            ingress.Mode == IngressMode.Hang ? Task.Delay(Timeout.Infinite, context.CancellationToken) : Task.CompletedTask;

        public override Task<PingResponse> Ping(EmptyRequest request, ServerCallContext context) =>
            Task.FromResult(new PingResponse { Message = "pong" });
    }
}

/// <summary>One PublishBatch call as the ingress saw it.</summary>
/// <param name="Peer">The caller's address (one per connection).</param>
/// <param name="EventIds">The CloudEvent ids in the call.</param>
/// <param name="Start">Arrival (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</param>
/// <param name="End">When the call ended on the server: answered, failed, or cancelled by the caller.</param>
public sealed record IngressCall(string Peer, IReadOnlyList<string> EventIds, long Start, long End);
