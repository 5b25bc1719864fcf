using System.IO.Pipelines;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Loop.Testing;
using Loop.Plugins.Sdk.Grpc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Plugins.Tests;

/// <summary>The SDK's gRPC dispatch on Kestrel's request features, in process.</summary>
public sealed class GrpcServerApplicationTests
{
    [Fact]
    public async Task A_call_lifts_kestrels_body_size_limit_and_minimum_data_rate_and_ends_with_its_status_in_the_trailers()
    {
        // Kestrel's defaults would end a long broker stream: 30 MB a request, and an abort when the body comes slower
        // than 240 bytes/s after 5 s (a stream waiting for its next message does).
        var call = new FakeCall("/loop.sample.v1.Echo/Nowhere");
        var application = new GrpcServerApplication(new GrpcMethodTable(), TimeProvider.System, NullLogger.Instance, metricsPort: null, metrics: null);

        await application.ProcessRequestAsync(call.Features);

        call.Size.MaxRequestBodySize.Should().BeNull();
        call.Rate.MinDataRate.Should().BeNull();
        call.Response.StatusCode.Should().Be(200);
        call.Response.Headers.ContentType.ToString().Should().Be("application/grpc");
        call.Trailers.Trailers["grpc-status"].ToString().Should().Be("12", "UNIMPLEMENTED");
        call.Trailers.Trailers["grpc-message"].ToString().Should().Contain("/loop.sample.v1.Echo/Nowhere");
    }

    [Fact]
    public async Task A_request_that_is_not_grpc_gets_415_and_keeps_kestrels_limits()
    {
        var call = new FakeCall("/loop.sample.v1.Echo/Say", contentType: "text/plain");
        var application = new GrpcServerApplication(new GrpcMethodTable(), TimeProvider.System, NullLogger.Instance, metricsPort: null, metrics: null);

        await application.ProcessRequestAsync(call.Features);

        call.Response.StatusCode.Should().Be(415);
        call.Size.MaxRequestBodySize.Should().Be(30_000_000, "only gRPC calls are exempt");
    }

    private static readonly Method<Empty, Empty> Probe = new(
        MethodType.Unary, "loop.test.Probe", "Call", Marshallers.Create<Empty>(e => e.ToByteArray(), Empty.Parser.ParseFrom), Marshallers.Create<Empty>(e => e.ToByteArray(), Empty.Parser.ParseFrom));

    private static readonly byte[] EmptyMessage = [0, 0, 0, 0, 0];

    private static GrpcServerApplication Serving(UnaryServerMethod<Empty, Empty> handler, TimeProvider time)
    {
        var methods = new GrpcMethodTable();
        methods.AddMethod(Probe, handler);
        return new GrpcServerApplication(methods, time, NullLogger.Instance, metricsPort: null, metrics: null);
    }

    [Fact]
    public async Task A_call_past_its_grpc_timeout_is_cancelled_and_ends_deadline_exceeded()
    {
        var time = new FakeTimeProvider();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var application = Serving(
            async (_, context) =>
            {
                entered.SetResult();
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                return new Empty();
            },
            time);
        var call = new FakeCall("/loop.test.Probe/Call", body: EmptyMessage, timeout: "100m");

        var running = application.ProcessRequestAsync(call.Features);
        await entered.Task.WaitAsync(Eventually.DefaultTimeout);
        time.Advance(TimeSpan.FromMilliseconds(99));
        running.IsCompleted.Should().BeFalse("the deadline is 100 ms away");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await running.WaitAsync(Eventually.DefaultTimeout);

        call.Trailers.Trailers["grpc-status"].ToString().Should().Be("4", "DEADLINE_EXCEEDED");
    }

    [Fact]
    public async Task A_handlers_rpc_exception_reaches_the_caller_with_its_status_message_and_trailers_and_any_other_as_unknown()
    {
        var thrown = new RpcException(new Status(StatusCode.FailedPrecondition, "not ready: 100%"), new Metadata { { "retry-after", "5" } });
        var call = new FakeCall("/loop.test.Probe/Call", body: EmptyMessage);
        await Serving((_, _) => throw thrown, TimeProvider.System).ProcessRequestAsync(call.Features);

        call.Trailers.Trailers["grpc-status"].ToString().Should().Be("9");
        call.Trailers.Trailers["grpc-message"].ToString().Should().Be("not ready: 100%25");
        call.Trailers.Trailers["retry-after"].ToString().Should().Be("5");

        var other = new FakeCall("/loop.test.Probe/Call", body: EmptyMessage);
        await Serving((_, _) => throw new InvalidOperationException("secret detail"), TimeProvider.System).ProcessRequestAsync(other.Features);
        other.Trailers.Trailers["grpc-status"].ToString().Should().Be("2", "UNKNOWN");
        other.Trailers.Trailers["grpc-message"].ToString().Should().NotContain("secret");
    }

    private sealed class FakeCall
    {
        public FakeCall(string path, string contentType = "application/grpc", byte[]? body = null, string? timeout = null)
        {
            var request = new HttpRequestFeature { Method = "POST", Path = path, Protocol = "HTTP/2" };
            request.Headers.ContentType = contentType;
            if (timeout is not null)
            {
                request.Headers["grpc-timeout"] = timeout;
            }

            Body.Reader = PipeReader.Create(new MemoryStream(body ?? []));
            Features.Set<IHttpRequestFeature>(request);
            Features.Set<IHttpResponseFeature>(Response);
            Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
            Features.Set<IRequestBodyPipeFeature>(Body);
            Features.Set<IHttpResponseTrailersFeature>(Trailers);
            Features.Set<IHttpMaxRequestBodySizeFeature>(Size);
            Features.Set<IHttpMinRequestBodyDataRateFeature>(Rate);
        }

        public FeatureCollection Features { get; } = new();

        public HttpResponseFeature Response { get; } = new();

        public TrailersFeature Trailers { get; } = new();

        public SizeLimit Size { get; } = new();

        public RateLimit Rate { get; } = new();

        private RequestBody Body { get; } = new();
    }

    private sealed class RequestBody : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; set; } = PipeReader.Create(Stream.Null);
    }

    private sealed class TrailersFeature : IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();
    }

    private sealed class SizeLimit : IHttpMaxRequestBodySizeFeature
    {
        public bool IsReadOnly => false;

        public long? MaxRequestBodySize { get; set; } = 30_000_000;
    }

    private sealed class RateLimit : IHttpMinRequestBodyDataRateFeature
    {
        public MinDataRate? MinDataRate { get; set; } = new(240, TimeSpan.FromSeconds(5));
    }
}
