using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Loop.Plugins.Sdk.Grpc;
using Loop.Sample.V1;
using Loop.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Loop.Plugins.Tests;

/// <summary>
/// The SDK's own gRPC dispatch on Kestrel (the sample plugin binds Echo as a singleton, so it is served without the
/// ASP.NET Core host): what a caller gets for calls the plugin cannot take, on a real plugin process.
/// </summary>
public sealed class PluginGrpcServerTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;
    private static readonly string Plugin = SamplePlugin.Binary;
    private static readonly PortPool Ports = new(31_500, 31_999);

    private static readonly Method<EchoRequest, EchoReply> Missing = new(
        MethodType.Unary, "loop.sample.v1.Echo", "Missing", Marshallers.Create<EchoRequest>(r => Google.Protobuf.MessageExtensions.ToByteArray(r), EchoRequest.Parser.ParseFrom), Marshallers.Create<EchoReply>(r => Google.Protobuf.MessageExtensions.ToByteArray(r), EchoReply.Parser.ParseFrom));

    private static async Task<(PluginClient Client, string Marker)> StartAsync(FakeLogCollector? logs = null)
    {
        var marker = "grpc-server-" + Guid.NewGuid().ToString("N");
        var start = LoopCommands.RegisterLoop(new LoopRegistry(Ports), new CmdConfig("sample", Plugin))();
        start.Environment["LOOP_TEST_MARKER"] = marker;
        var client = await PluginClient.StartAsync(start, Handshake, logger: logs is null ? null : new FakeLogger(logs));
        return (client, marker);
    }

    [Fact]
    public async Task A_method_the_plugin_does_not_serve_is_unimplemented_and_the_connection_stays_usable()
    {
        var (client, marker) = await StartAsync();
        await using (client)
        {
            var call = () => client.Channel.CreateCallInvoker().AsyncUnaryCall(Missing, null, new CallOptions(), new EchoRequest { Text = "x" }).ResponseAsync;
            (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unimplemented);

            (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "after" })).Text.Should().Be("after");
        }

        ProcessLeaks.AssertNone(marker);
    }

    [Fact]
    public async Task A_request_message_over_the_receive_limit_is_refused_with_resource_exhausted()
    {
        var (client, marker) = await StartAsync();
        await using (client)
        {
            var echo = new Echo.EchoClient(client.Channel);
            var big = new string('x', GrpcFrames.MaxReceiveMessageSize + 1);
            var call = async () => await echo.SayAsync(new EchoRequest { Text = big });
            (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.ResourceExhausted);

            var limit = new string('y', GrpcFrames.MaxReceiveMessageSize - 16);
            (await echo.SayAsync(new EchoRequest { Text = limit })).Text.Length.Should().Be(limit.Length, "a message within the limit is taken whole");
        }

        ProcessLeaks.AssertNone(marker);
    }

    [Fact]
    public async Task A_handler_that_throws_gives_the_caller_unknown_without_its_text_and_the_plugin_logs_it_with_the_method()
    {
        var logs = new FakeLogCollector();
        var (client, marker) = await StartAsync(logs);
        await using (client)
        {
            // Relay dials a broker id nobody announced: the handler throws (a TimeoutException after the broker's 5 s).
            var call = async () => await new Echo.EchoClient(client.Channel).RelayAsync(new RelayRequest { BrokerId = 999, Text = "x" });
            var thrown = (await call.Should().ThrowAsync<RpcException>()).Which;
            thrown.StatusCode.Should().Be(StatusCode.Unknown);
            thrown.Status.Detail.Should().Be("Exception was thrown by handler.").And.NotContain("999", "the exception's text stays in the plugin");

            await Eventually.WaitAsync(
                () => logs.GetSnapshot().Any(r => r.Message.Contains("/loop.sample.v1.Echo/Relay", StringComparison.Ordinal)),
                "the plugin's error line, naming the method, in the host's log");
        }

        ProcessLeaks.AssertNone(marker);
    }

    [Fact]
    public async Task A_request_that_is_not_grpc_is_refused_with_415_and_one_not_posted_with_405()
    {
        var (client, marker) = await StartAsync();
        await using (client)
        {
            using var http = new HttpClient(new SocketsHttpHandler
            {
                ConnectCallback = async (_, token) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(client.Handshake.Address), token);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            })
            {
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };

            using var text = await http.PostAsync("http://plugin/loop.sample.v1.Echo/Say", new StringContent("hello"));
            text.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);

            using var lookalike = await http.PostAsync("http://plugin/loop.sample.v1.Echo/Say", Content([], "application/grpcx"));
            lookalike.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType, "only application/grpc and its +suffix forms are gRPC");

            using var put = await http.PutAsync("http://plugin/loop.sample.v1.Echo/Say", Content([0, 0, 0, 0, 0], "application/grpc"));
            put.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed, "gRPC is POST only");
        }

        ProcessLeaks.AssertNone(marker);
    }

    private static ByteArrayContent Content(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("content-type", contentType);
        return content;
    }

    [Theory]
    [InlineData("100m", 100_000)]
    [InlineData("5S", 5_000_000)]
    [InlineData("2M", 120_000_000)]
    [InlineData("1H", 3_600_000_000)]
    [InlineData("250u", 250)]
    [InlineData("100000n", 100)]
    [InlineData("99999999n", 99_999.9)]
    public void Grpc_timeouts_are_read_in_their_unit(string header, double microseconds) =>
        GrpcTimeout.Parse(header).Should().Be(TimeSpan.FromMicroseconds(microseconds));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("100")]
    [InlineData("123456789S")]
    [InlineData("-5S")]
    [InlineData("5s")]
    [InlineData("1.5S")]
    public void A_malformed_grpc_timeout_means_no_deadline(string? header) =>
        GrpcTimeout.Parse(header).Should().BeNull();

    [Theory]
    [InlineData("plain text, no escapes", "plain text, no escapes")]
    [InlineData("100% done", "100%25 done")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("café", "caf%C3%A9")]
    public void Status_messages_are_percent_encoded_as_grpc_asks(string detail, string encoded) =>
        GrpcCall.PercentEncode(detail).Should().Be(encoded);
}
