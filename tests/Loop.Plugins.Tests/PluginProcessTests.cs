using System.Diagnostics;
using Loop.Sample.V1;
using Loop.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Loop.Plugins.Tests;

/// <summary>The host client against the real sample plugin, as a child process over a Unix socket.</summary>
public sealed class PluginProcessTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;
    private static readonly string Plugin = SamplePlugin.Binary;

    // One pool for the class: plugins started together never share a Prometheus port (see PluginServiceTests).
    private static readonly PortPool Ports = new(30_000, 31_499);

    private static LoopRegistry Registry() => new(Ports);

    private static ProcessStartInfo Command(ILoopRegistry registry, string id, params string[] args)
    {
        var start = LoopCommands.RegisterLoop(registry, new CmdConfig(id, Plugin))();
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    [Fact]
    public async Task A_dotnet_plugin_starts_answers_reports_healthy_and_stops_gracefully()
    {
        var collector = new FakeLogCollector();
        var registry = Registry();
        await using var client = await PluginClient.StartAsync(Command(registry, "sample"), Handshake, logger: new FakeLogger(collector));

        client.Handshake.Network.Should().Be("unix");
        client.Handshake.AppProtocolVersion.Should().Be(1);
        (await client.PingAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
        var echo = new Echo.EchoClient(client.Channel);
        (await echo.SayAsync(new EchoRequest { Text = "hi" })).Should().BeEquivalentTo(new EchoReply { Text = "hi", Calls = 1 });

        var pid = client.ProcessId;
        var watch = Stopwatch.StartNew();
        await client.KillAsync();
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "Shutdown made it exit without the SIGKILL fallback");
        Directory.Exists($"/proc/{pid}").Should().BeFalse();
        collector.GetSnapshot().Should().NotContain(r => r.Message.Contains("failed to exit gracefully", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_plugin_can_listen_on_loopback_tcp_in_the_hosts_port_range()
    {
        // The plugin's Prometheus port is the first of its gRPC range, as with the default pool and range (both from
        // 10000): the search must pass over it, or the metrics server cannot start.
        var registry = Registry();
        var start = Command(registry, "tcp", "--tcp");
        registry.TryGet("tcp", out var loop).Should().BeTrue();
        var metricsPort = loop!.EnvConfig.PrometheusPort;
        var options = new PluginClientOptions { MinPort = metricsPort, MaxPort = metricsPort + 99 };
        await using var client = await PluginClient.StartAsync(start, Handshake, options);

        client.Handshake.Network.Should().Be("tcp");
        var endpoint = System.Net.IPEndPoint.Parse(client.Handshake.Address);
        endpoint.Address.Should().Be(System.Net.IPAddress.Loopback, "a plugin never listens beyond loopback");
        endpoint.Port.Should().BeInRange(options.MinPort + 1, options.MaxPort);
        (await client.PingAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "over tcp" })).Text.Should().Be("over tcp");
        using var http = new HttpClient();
        (await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics")).Should().Contain("super_great_counter");
    }

    [Fact]
    public async Task Services_mapped_for_per_call_activation_are_served_like_bound_ones()
    {
        await using var client = await PluginClient.StartAsync(Command(Registry(), "percall", "--per-call"), Handshake);
        var echo = new Echo.EchoClient(client.Channel);

        (await echo.SayAsync(new EchoRequest { Text = "a" })).Should().BeEquivalentTo(new EchoReply { Text = "a", Calls = 1 });
        (await echo.SayAsync(new EchoRequest { Text = "b" })).Should().BeEquivalentTo(new EchoReply { Text = "b", Calls = 2 });
        (await client.PingAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
    }

    [Fact]
    public async Task A_plugin_on_the_aspnetcore_host_serves_under_automtls_too()
    {
        // MapServices keeps the ASP.NET Core host; its connections are authenticated the same way as on Kestrel alone.
        await using var client = await PluginClient.StartAsync(Command(Registry(), "percall-mtls", "--per-call"), Handshake, new PluginClientOptions { AutoMtls = true });

        client.Handshake.ServerCertificate.Should().NotBeNull();
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "secure per call" })).Text.Should().Be("secure per call");
        (await client.PingAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
    }

    [Fact]
    public async Task The_plugin_serves_its_metrics_on_the_registered_port()
    {
        var registry = Registry();
        await using var client = await PluginClient.StartAsync(Command(registry, "metered"), Handshake);
        await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "count me" });
        registry.TryGet("metered", out var loop).Should().BeTrue();

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{loop!.EnvConfig.PrometheusPort}/metrics");

        metrics.Should().Contain("super_great_counter");
    }

    [Fact]
    public async Task A_wrong_cookie_fails_clearly_with_the_plugins_message_logged()
    {
        var collector = new FakeLogCollector();
        var start = () => PluginClient.StartAsync(Command(Registry(), "cookie"), Handshake with { MagicCookieValue = "wrong" }, logger: new FakeLogger(collector));

        (await start.Should().ThrowAsync<PluginHandshakeException>()).Which.Message.Should().Contain("exited before we could connect").And.Contain("exit code 1");
        await Eventually.WaitAsync(() => collector.GetSnapshot().Any(r => r.Message.Contains("This binary is a plugin", StringComparison.Ordinal)), "the plugin's message in the host log");
    }

    [Fact]
    public async Task A_plugin_that_never_prints_a_handshake_times_out_and_is_killed()
    {
        var start = Command(Registry(), "silent", "--no-handshake");
        var act = () => PluginClient.StartAsync(start, Handshake, new PluginClientOptions { StartTimeout = TimeSpan.FromSeconds(1) });

        (await act.Should().ThrowAsync<PluginHandshakeException>()).Which.Message.Should().Contain("timeout while waiting for plugin");
    }

    [Fact]
    public async Task An_incompatible_version_is_rejected()
    {
        var act = () => PluginClient.StartAsync(Command(Registry(), "old"), Handshake with { ProtocolVersions = [2, 3] });
        (await act.Should().ThrowAsync<PluginHandshakeException>()).Which.Message.Should().Be("Incompatible API version with plugin. Plugin version: 1, Client versions: [2 3]");
    }

    [Fact]
    public async Task A_plugin_that_crashes_is_seen_as_exited_and_unhealthy()
    {
        await using var client = await PluginClient.StartAsync(Command(Registry(), "crashy", "--crash-after", "2"), Handshake);
        var echo = new Echo.EchoClient(client.Channel);
        await echo.SayAsync(new EchoRequest { Text = "1" });
        await echo.SayAsync(new EchoRequest { Text = "2" });

        var third = async () => await echo.SayAsync(new EchoRequest { Text = "3" });
        await third.Should().ThrowAsync<Grpc.Core.RpcException>();
        await client.Exited.WaitAsync(Eventually.DefaultTimeout);
        (await client.PingAsync(TimeSpan.FromSeconds(1))).Should().BeFalse();
    }

    [Fact]
    public async Task A_plugin_that_hangs_fails_its_health_check()
    {
        await using var client = await PluginClient.StartAsync(Command(Registry(), "hangy", "--hang-after", "1"), Handshake);
        var echo = new Echo.EchoClient(client.Channel);
        await echo.SayAsync(new EchoRequest { Text = "ok" });
        using var cts = new CancellationTokenSource();
        var stuck = echo.SayAsync(new EchoRequest { Text = "stuck" }, cancellationToken: cts.Token);

        await Eventually.WaitAsync(async () => !await client.PingAsync(TimeSpan.FromSeconds(1)), "the health check to fail");
        await cts.CancelAsync();
        var wait = async () => await stuck;
        await wait.Should().ThrowAsync<Grpc.Core.RpcException>();
    }

    [Fact]
    public async Task AutoMtls_pins_each_sides_certificate()
    {
        await using var client = await PluginClient.StartAsync(Command(Registry(), "mtls"), Handshake, new PluginClientOptions { AutoMtls = true });

        client.Handshake.ServerCertificate.Should().NotBeNull();
        using var server = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(client.Handshake.ServerCertificate!);
        server.Subject.Should().Be("CN=localhost, O=HashiCorp");
        System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPublicKey(server)!.KeySize.Should().Be(521);
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "secure" })).Text.Should().Be("secure");

        // A client with any other certificate is refused by the plugin.
        using var stranger = AutoMtls.CreateCertificate();
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = (_, token) => Loop.Networking.UnixSockets.ConnectAsync(client.Handshake.Address, token),
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [stranger],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        };
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress("https://localhost", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var intruder = async () => await new Echo.EchoClient(channel).SayAsync(new EchoRequest { Text = "let me in" });
        await intruder.Should().ThrowAsync<Grpc.Core.RpcException>();

        // And a client without TLS gets nothing either (the plugin's TLS is per connection, before HTTP/2).
        using var plainHandler = new SocketsHttpHandler { ConnectCallback = (_, token) => Loop.Networking.UnixSockets.ConnectAsync(client.Handshake.Address, token) };
        using var plain = Grpc.Net.Client.GrpcChannel.ForAddress("http://localhost", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = plainHandler, DisposeHttpClient = false });
        var cleartext = async () => await new Echo.EchoClient(plain).SayAsync(new EchoRequest { Text = "no tls" }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.AddSeconds(10));
        await cleartext.Should().ThrowAsync<Grpc.Core.RpcException>();
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "still secure" })).Text.Should().Be("still secure");
    }

    [Fact]
    public async Task The_sdk_works_in_a_native_aot_published_plugin()
    {
        var (binary, log) = await AotSamplePlugin.PublishOnceAsync();
        log.Should().NotContainAny(["warning IL", "warning AOT"], "the SDK publishes with Native AOT without trim or AOT warnings");
        ElfType(binary).Should().Be(ElfExecutable, "the sample is built as a fixed-address executable, whose start relocates nothing (a position-independent one is ET_DYN, 3)");

        var registry = Registry();
        var start = LoopCommands.RegisterLoop(registry, new CmdConfig("aot", binary))();
        var marker = "aot-" + Guid.NewGuid().ToString("N");
        start.Environment["LOOP_TEST_MARKER"] = marker;
        await using (var client = await PluginClient.StartAsync(start, Handshake))
        {
            (await client.PingAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
            (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "native" })).Text.Should().Be("native");
            registry.TryGet("aot", out var loop).Should().BeTrue();
            using var http = new HttpClient();
            (await http.GetStringAsync($"http://127.0.0.1:{loop!.EnvConfig.PrometheusPort}/metrics")).Should().Contain("super_great_counter");
        }

        ProcessLeaks.AssertNone(marker);
    }

    /// <summary>ELF <c>e_type</c> of a fixed-address executable (<c>ET_EXEC</c>).</summary>
    private const int ElfExecutable = 2;

    /// <summary>The ELF header's <c>e_type</c> (two little-endian bytes at offset 16, after the magic and the identification bytes).</summary>
    private static int ElfType(string binary)
    {
        Span<byte> header = stackalloc byte[18];
        using var file = File.OpenRead(binary);
        file.ReadExactly(header);
        header[..4].SequenceEqual("\u007FELF"u8).Should().BeTrue($"{binary} is an ELF file");
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
    }

    [Fact]
    public async Task The_plugins_console_output_reaches_the_host_log_over_grpc_stdio()
    {
        var collector = new FakeLogCollector();
        await using var client = await PluginClient.StartAsync(Command(Registry(), "chatty"), Handshake, logger: new FakeLogger(collector));

        await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "over stdio" });

        await Eventually.WaitAsync(
            () => collector.GetSnapshot().Any(r => r.Message == "plugin.Loop.SamplePlugin stdout: echo 1: over stdio"),
            "the plugin's console line in the host log");
    }
}
