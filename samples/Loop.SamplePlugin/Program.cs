// A sample LOOP plugin. Run by a host, it serves Echo over the go-plugin protocol and counts calls on /metrics.
// Flags for fault tests: --crash-after N (exit 3 at once after N calls), --hang-after N (stop answering and report
// NOT_SERVING after N calls), --answer-after-ms N (each Say answers N ms late), --no-handshake (never start serving). Other ways to serve: --tcp (loopback TCP, as on
// Windows), --per-call (Echo activated per call through MapServices instead of bound once).
using System.Diagnostics.Metrics;
using System.Globalization;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Loop.Plugins;
using Loop.Plugins.Sdk;
using Microsoft.Extensions.Logging;
using Loop.Sample.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

if (args.Contains("--no-handshake"))
{
    await Task.Delay(Timeout.Infinite);
}

var behaviour = new Behaviour(Flag(args, "--crash-after"), Flag(args, "--hang-after"), Flag(args, "--answer-after-ms"));
var perCall = args.Contains("--per-call");
return await LoopPluginServer.RunAsync(new LoopPluginServerOptions
{
    Handshake = SampleHandshake.Config,
    Network = args.Contains("--tcp") ? PluginNetwork.Tcp : PluginNetwork.Unix,
    ConfigureServices = services => services.AddSingleton(behaviour).AddSingleton<EchoService>(),
    Services = perCall ? [] : [(binder, services) => Echo.BindService(binder, services.GetRequiredService<EchoService>())],
    MapServices = perCall ? endpoints => endpoints.MapGrpcService<EchoService>() : null,
    Meters = [EchoService.MeterName],
});

static int? Flag(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : null;
}

/// <summary>The handshake the sample plugin and its hosts share.</summary>
public static class SampleHandshake
{
    public static readonly HandshakeConfig Config = new("LOOP_SAMPLE_PLUGIN", "a3d5e9c1-loop-sample", [1]);
}

/// <summary>libc's _exit: ends the process at once, skipping .NET shutdown.</summary>
internal static partial class Native
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "_exit")]
    public static partial void Exit(int code);
}

/// <summary>Fault injection from the command line.</summary>
internal sealed record Behaviour(int? CrashAfter, int? HangAfter, int? AnswerAfterMs);

/// <summary>Echoes text and counts calls (metric <c>super_great_counter</c>).</summary>
internal sealed partial class EchoService(Behaviour behaviour, HealthServiceImpl health, PluginBroker broker, ILogger<EchoService> logger) : Echo.EchoBase
{
    public const string MeterName = "Loop.SamplePlugin";
    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("super_great_counter");
    private static long _calls;

    public override async Task<EchoReply> Say(EchoRequest request, ServerCallContext context)
    {
        var n = Interlocked.Increment(ref _calls);
        Calls.Add(1);
        if (behaviour.CrashAfter is { } crash && n > crash)
        {
            // An abrupt crash, like a Go plugin's os.Exit(3). (Environment.Exit inside a request would wait for the
            // host to stop, and the host waits for this request.)
            Native.Exit(3);
        }

        if (behaviour.HangAfter is { } hang && n > hang)
        {
            health.SetStatus("plugin", HealthCheckResponse.Types.ServingStatus.NotServing);
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        if (behaviour.AnswerAfterMs is { } late)
        {
            await Task.Delay(late, context.CancellationToken);
        }

        // Sent only when the host logs this plugin at Debug (LOOP_PLUGIN_LOG_LEVEL).
        LogEcho(logger, n, request.Text);

        // After the handshake the console goes to the host over GRPCStdio and lands in the host's log.
        Console.WriteLine($"echo {n}: {request.Text}");
        return new EchoReply { Text = request.Text, Calls = n };
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "echo call {Count}: {Text}")]
    private static partial void LogEcho(ILogger logger, long count, string text);

    public override async Task<EchoReply> Relay(RelayRequest request, ServerCallContext context)
    {
        using var channel = await broker.DialAsync(request.BrokerId, context.CancellationToken);
        return await new Echo.EchoClient(channel).SayAsync(new EchoRequest { Text = request.Text }, cancellationToken: context.CancellationToken);
    }

    public override async Task<OfferReply> Offer(OfferRequest request, ServerCallContext context)
    {
        var id = broker.NextId();
        await broker.AcceptAndServeAsync(
            id,
            endpoints => endpoints.MapGrpcService<PrefixEchoService>(),
            services => services.AddSingleton(new Prefix(request.Prefix)),
            context.CancellationToken);
        return new OfferReply { BrokerId = id };
    }
}

/// <summary>The prefix of an offered Echo.</summary>
internal sealed record Prefix(string Value);

/// <summary>The Echo served over a brokered sub-connection.</summary>
internal sealed class PrefixEchoService(Prefix prefix) : Echo.EchoBase
{
    public override Task<EchoReply> Say(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(new EchoReply { Text = $"{prefix.Value}:{request.Text}" });
}
