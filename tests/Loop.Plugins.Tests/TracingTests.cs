using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Grpc.Core;
using Loop.Plugins.Tests.FakeCollector;
using Loop.Sample.V1;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Tests;

/// <summary>A plugin started with CL_TRACING_* exports spans to the collector target it was given.</summary>
public sealed class TracingTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;

    [Fact]
    public async Task Spans_of_plugin_calls_reach_the_collector_with_the_configured_attributes()
    {
        var exports = new ConcurrentQueue<byte[]>();
        var collectorPort = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, collectorPort, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(exports);
        await using var collector = builder.Build();
        collector.MapGrpcService<Collector>();
        await collector.StartAsync();

        var tracing = new LoopTracingConfig
        {
            Enabled = true,
            CollectorTarget = $"127.0.0.1:{collectorPort}",
            SamplingRatio = 1,
            Attributes = new Dictionary<string, string> { ["deployment"] = "loop-test-42" },
        };
        var registry = new LoopRegistry(new PortPool(32_690, 32_699), tracing);
        var start = LoopCommands.RegisterLoop(registry, new CmdConfig("traced", SamplePlugin.Binary))();
        var client = await PluginClient.StartAsync(start, Handshake);
        await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "trace me" });

        // Stopping the plugin flushes its batch exporter.
        await client.DisposeAsync();

        await Eventually.WaitAsync(() => !exports.IsEmpty, "an OTLP export");
        var all = Encoding.UTF8.GetString([.. exports.SelectMany(e => e)]);
        all.Should().Contain("loop-test-42", "CL_TRACING_ATTRIBUTE_deployment is a resource attribute");
        all.Should().Contain("/loop.sample.v1.Echo/Say", "the incoming gRPC call is a server span");
    }

    private sealed class Collector(ConcurrentQueue<byte[]> exports) : TraceService.TraceServiceBase
    {
        public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
        {
            foreach (var spans in request.ResourceSpans)
            {
                exports.Enqueue(spans.ToByteArray());
            }

            return Task.FromResult(new ExportTraceServiceResponse());
        }
    }
}
