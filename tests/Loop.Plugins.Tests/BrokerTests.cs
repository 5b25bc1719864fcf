using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Loop.Sample.V1;

namespace Loop.Plugins.Tests;

/// <summary>Brokered sub-connections between the host and the real sample plugin, both directions.</summary>
public sealed class BrokerTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;

    // One pool for the class: plugins started together never share a Prometheus port (see PluginServiceTests).
    private static readonly PortPool Ports = new(32_600, 32_689);

    private static Task<PluginClient> StartAsync(string id, bool autoMtls = false)
    {
        var start = LoopCommands.RegisterLoop(new LoopRegistry(Ports), new CmdConfig(id, SamplePlugin.Binary))();
        return PluginClient.StartAsync(start, Handshake, new PluginClientOptions { AutoMtls = autoMtls });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_plugin_dials_a_service_the_host_serves_through_the_broker(bool autoMtls)
    {
        await using var client = await StartAsync("relay", autoMtls);
        var id = client.Broker.NextId();
        await client.Broker.AcceptAndServeAsync(id, endpoints => endpoints.MapGrpcService<HostEcho>());

        var reply = await new Echo.EchoClient(client.Channel).RelayAsync(new RelayRequest { BrokerId = id, Text = "round" });

        reply.Text.Should().Be("host:round");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_host_dials_a_service_the_plugin_serves_through_the_broker(bool autoMtls)
    {
        await using var client = await StartAsync("offer", autoMtls);

        var offer = await new Echo.EchoClient(client.Channel).OfferAsync(new OfferRequest { Prefix = "sub" });
        using var channel = await client.Broker.DialAsync(offer.BrokerId);

        (await new Echo.EchoClient(channel).SayAsync(new EchoRequest { Text = "way" })).Text.Should().Be("sub:way");
    }

    [Fact]
    public async Task Dialling_an_id_nobody_announced_times_out_clearly()
    {
        await using var client = await StartAsync("nobody");
        var dial = () => client.Broker.DialAsync(4242);
        (await dial.Should().ThrowAsync<TimeoutException>()).Which.Message.Should().Contain("broker id 4242");
    }

    [Fact]
    public async Task Under_AutoMTLS_a_brokered_service_refuses_a_plain_connection()
    {
        await using var client = await StartAsync("guarded", autoMtls: true);
        var offer = await new Echo.EchoClient(client.Channel).OfferAsync(new OfferRequest { Prefix = "sub" });
        using var secured = await client.Broker.DialAsync(offer.BrokerId);
        (await new Echo.EchoClient(secured).SayAsync(new EchoRequest { Text = "ok" })).Text.Should().Be("sub:ok");

        // The same socket, dialled without the host's certificate.
        var announced = await client.Broker.AnnouncementAsync(offer.BrokerId, CancellationToken.None);
        using var plain = PluginChannels.Create(announced.Network, announced.Address);
        var call = () => new Echo.EchoClient(plain).SayAsync(new EchoRequest { Text = "sneak" }).ResponseAsync;
        await call.Should().ThrowAsync<RpcException>();
    }

    private sealed class HostEcho : Echo.EchoBase
    {
        public override Task<EchoReply> Say(EchoRequest request, ServerCallContext context) =>
            Task.FromResult(new EchoReply { Text = "host:" + request.Text });
    }
}
