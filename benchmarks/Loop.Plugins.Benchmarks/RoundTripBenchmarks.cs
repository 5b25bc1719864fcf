using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Grpc.Net.Client;
using Loop.Sample.V1;

namespace Loop.Plugins.Benchmarks;

/// <summary>
/// A unary call host → plugin through <see cref="PluginClient.Channel"/> beside a bare grpc-dotnet channel dialled to the
/// same plugin's Unix socket (the baseline), both against the real sample plugin process.
/// </summary>
[Config(typeof(Config))]
public class RoundTripBenchmarks
{
    private PluginClient _client = null!;
    private GrpcChannel _raw = null!;
    private Echo.EchoClient _viaPlugin = null!;
    private Echo.EchoClient _viaRaw = null!;
    private readonly EchoRequest _request = new() { Text = "ping" };

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var start = LoopCommands.RegisterLoop(new LoopRegistry(new LoopPluginsOptions { FirstPort = 21_000, LastPort = 21_099 }), new CmdConfig("bench", Plugins.DotnetPlugin))();
        _client = await PluginClient.StartAsync(start, Plugins.Handshake);
        var path = _client.Handshake.Address;
        _raw = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, token) =>
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                    await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), token);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                },
            },
        });
        _viaPlugin = new Echo.EchoClient(_client.Channel);
        _viaRaw = new Echo.EchoClient(_raw);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _raw.Dispose();
        await _client.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "raw grpc-dotnet, same Unix socket")]
    public async Task<EchoReply> Raw() => await _viaRaw.SayAsync(_request);

    [Benchmark(Description = "plugin channel (PluginClient)")]
    public async Task<EchoReply> ViaPlugin() => await _viaPlugin.SayAsync(_request);

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithId("unary"));
            AddColumn(StatisticColumn.P50, StatisticColumn.P95);
        }
    }
}
