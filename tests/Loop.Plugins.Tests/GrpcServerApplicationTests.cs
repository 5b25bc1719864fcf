using System.IO.Pipelines;
using Loop.Plugins.Sdk.Grpc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging.Abstractions;

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

    private sealed class FakeCall
    {
        public FakeCall(string path, string contentType = "application/grpc")
        {
            var request = new HttpRequestFeature { Method = "POST", Path = path, Protocol = "HTTP/2" };
            request.Headers.ContentType = contentType;
            Features.Set<IHttpRequestFeature>(request);
            Features.Set<IHttpResponseFeature>(Response);
            Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
            Features.Set<IRequestBodyPipeFeature>(new EmptyBody());
            Features.Set<IHttpResponseTrailersFeature>(Trailers);
            Features.Set<IHttpMaxRequestBodySizeFeature>(Size);
            Features.Set<IHttpMinRequestBodyDataRateFeature>(Rate);
        }

        public FeatureCollection Features { get; } = new();

        public HttpResponseFeature Response { get; } = new();

        public TrailersFeature Trailers { get; } = new();

        public SizeLimit Size { get; } = new();

        public RateLimit Rate { get; } = new();
    }

    private sealed class EmptyBody : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = PipeReader.Create(Stream.Null);
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
