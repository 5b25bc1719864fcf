// The Loop demo host. With no setup it:
//  - hosts a Chip Ingress compatible gRPC service on 127.0.0.1:5081 that prints what it receives,
//  - emits a few events a second through the durable emitter (in-memory store) to that ingress,
//  - serves Prometheus metrics on http://127.0.0.1:5080/metrics, discovery on /discovery and health on /health.
using System.Net;
using Loop.Demo;
using Loop.DurableEmitter;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;

var builder = WebApplication.CreateBuilder(args);
var demo = builder.Configuration.GetSection("Demo").Get<DemoOptions>() ?? new DemoOptions();
builder.Services.Configure<DemoOptions>(builder.Configuration.GetSection("Demo"));

var address = IPAddress.Parse(demo.BindAddress);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Listen(address, demo.HttpPort, l => l.Protocols = HttpProtocols.Http1);
    kestrel.Listen(address, demo.IngressPort, l => l.Protocols = HttpProtocols.Http2);
});
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });

builder.Services.AddGrpc();
builder.Services
    .AddDurableEmitter(o => o.RetransmitAfter = TimeSpan.FromSeconds(5))
    .UseInMemoryStore()
    .UseGrpcIngress(o => o.Endpoint = $"{demo.BindAddress}:{demo.IngressPort}");
builder.Services.AddHostedService<TickProducer>();
builder.Services.AddLoopPlugins();
builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(DurableEmitter.MeterName).AddPrometheusExporter());

var app = builder.Build();
app.MapGrpcService<DemoIngress>();
app.MapPrometheusScrapingEndpoint("/metrics");
app.MapHealthChecks("/health");
app.MapLoopPluginEndpoints(o => o.DiscoveryPort = demo.HttpPort);
app.Lifetime.ApplicationStarted.Register(() => DemoLog.Started(app.Logger, demo.BindAddress, demo.IngressPort, demo.HttpPort));
await app.RunAsync();
