// The Loop demo host. With no setup it:
//  - hosts a Chip Ingress compatible gRPC service on 127.0.0.1:5081 that prints what it receives,
//  - emits a few events a second through the durable emitter (in-memory store) to that ingress,
//  - runs the sample .NET plugin out of process (go-plugin protocol, supervised) and calls its Echo every 2 s,
//  - runs a cron job every 5 s (Loop.Jobs): httpget the demo's /demo/price, jsonparse, multiply, emit to the ingress,
//  - with --Loop:Jobs:Ethereum:Url=ws://127.0.0.1:8545 (a local chain, see the README), tracks the chain's heads and
//    adds job demo-chain: a run request on the chain or a POST starts a run that waits for 2 confirmations, then emits,
//  - serves Prometheus metrics on http://127.0.0.1:5080/metrics, discovery on /discovery, the plugin's metrics on
//    /plugins/sample/metrics, and health on /health.
using System.Net;
using Loop.Demo;
using Loop.Plugins;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;

var builder = WebApplication.CreateBuilder(args);
var demo = builder.Configuration.GetSection("Demo").Get<DemoOptions>() ?? new DemoOptions();
builder.Services.Configure<DemoOptions>(builder.Configuration.GetSection("Demo"));

if (!IPAddress.TryParse(demo.BindAddress, out var address))
{
    await Console.Error.WriteLineAsync($"loop demo: Demo:BindAddress \"{demo.BindAddress}\" is not an IP address");
    return 2;
}

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Listen(address, demo.HttpPort, l => l.Protocols = HttpProtocols.Http1);
    kestrel.Listen(address, demo.IngressPort, l => l.Protocols = HttpProtocols.Http2);
});
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });

builder.Services.AddGrpc();
// The Loop packages bind from appsettings.json ("Loop:Emitter", "Loop:Plugins"); every bad value fails the start, named
// by its path.
builder.Services
    .AddDurableEmitter(builder.Configuration.GetSection("Loop:Emitter"))
    .UseInMemoryStore()
    .UseGrpcIngress(o => o.Endpoint = $"{demo.BindAddress}:{demo.IngressPort}");
builder.Services.AddHostedService<TickProducer>();

// The sample plugin runs out of process over the go-plugin protocol, supervised, with its own /metrics.
builder.Services.AddLoopPlugins(builder.Configuration.GetSection("Loop:Plugins"))
    .AddPlugin(new CmdConfig("sample", SamplePluginLocation.Find(demo.PluginPath)), SampleHandshake.Config);
builder.Services.AddHostedService<PluginCaller>();

// The node's job services: a cron job whose runs fetch a price, scale it and emit it through the durable emitter.
var jobs = builder.Services.AddLoopJobs(builder.Configuration.GetSection("Loop:Jobs")).UseInMemoryStore();
var chain = builder.Configuration.GetSection("Loop:Jobs:Ethereum");
if (chain.Exists())
{
    // On a chain: heads drive confirmations, and runlog requests start runs.
    jobs.UseEthereum(chain);
}

builder.Services.AddHostedService<DemoJobs>();
// The host's own /metrics (listed first by /discovery): the application adds OpenTelemetry's Prometheus exporter itself,
// and AddLoopInstrumentation() enables every Loop package's meter.
builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddLoopInstrumentation().AddPrometheusExporter());

var app = builder.Build();
app.MapGrpcService<DemoIngress>();
app.MapPrometheusScrapingEndpoint("/metrics");
app.MapHealthChecks("/health");
app.MapLoopPluginEndpoints(o => o.DiscoveryPort = demo.HttpPort);
app.MapLoopJobs("/v2");
app.MapGet("/demo/price", (TimeProvider time) => Results.Text(DemoJobs.PriceJson(time), "application/json"));
app.Lifetime.ApplicationStarted.Register(() => DemoLog.Started(app.Logger, demo.BindAddress, demo.IngressPort, demo.HttpPort));
try
{
    // Every option validated before anything starts, so all errors are reported together (the host would stop at the
    // first service whose options fail, and log it with a stack trace).
    app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ConfigurationError(ex) is { } errors)
{
    // What the user typed is wrong: say what and where, without a stack trace.
    await Console.Error.WriteLineAsync("loop demo: invalid configuration:\n  " + string.Join("\n  ", errors));
    return 2;
}

// Options validation (every error, each with its configuration path) and values the binder could not convert.
static IReadOnlyList<string>? ConfigurationError(Exception ex) => ex switch
{
    Microsoft.Extensions.Options.OptionsValidationException invalid => [.. invalid.Failures],
    AggregateException all when all.InnerExceptions.All(e => ConfigurationError(e) is not null) => [.. all.InnerExceptions.SelectMany(e => ConfigurationError(e)!)],
    InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => [message],
    _ => null,
};
