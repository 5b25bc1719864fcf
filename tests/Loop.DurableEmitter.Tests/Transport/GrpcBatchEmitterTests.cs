using System.Collections.Concurrent;
using System.Text;
using Grpc.Core;
using Loop.DurableEmitter.Ingress;
using Loop.Events;
using Loop.Events.CloudEvents;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Transport;

/// <summary>The gRPC transport against a real ingress server on loopback.</summary>
public sealed class GrpcBatchEmitterTests : IAsyncLifetime
{
    private TestIngress _ingress = null!;

    public async Task InitializeAsync() => _ingress = await TestIngress.StartAsync();

    public async Task DisposeAsync() => await _ingress.DisposeAsync();

    private static CloudEvent Event(string id, string type = "t", int bytes = 8) => new()
    {
        Id = id,
        Source = "s",
        Type = type,
        SpecVersion = "1.0",
        BinaryData = Google.Protobuf.ByteString.CopyFrom(new byte[bytes]),
    };

    private async Task<(GrpcBatchEmitter Emitter, ConcurrentDictionary<string, Exception?> Outcomes)> StartAsync(Action<GrpcIngressOptions>? configure = null, IIngressHeaderProvider? headers = null)
    {
        var options = new GrpcIngressOptions { Endpoint = _ingress.Endpoint, BatchInterval = TimeSpan.FromMilliseconds(5) };
        configure?.Invoke(options);
        var emitter = new GrpcBatchEmitter(options, headers);
        await emitter.StartAsync();
        return (emitter, new ConcurrentDictionary<string, Exception?>());
    }

    private static void Queue(GrpcBatchEmitter emitter, ConcurrentDictionary<string, Exception?> outcomes, CloudEvent e) =>
        emitter.TryQueue(e, TimeSpan.FromMinutes(1), error => outcomes[e.Id] = error).Should().Be(QueueResult.Queued);

    [Fact]
    public async Task Delivers_batches_and_stamps_a_seqnum_per_source_and_type_on_a_copy()
    {
        var (emitter, outcomes) = await StartAsync();
        await using var _ = emitter;
        var original = Event("a1", "alpha");
        Queue(emitter, outcomes, original);
        Queue(emitter, outcomes, Event("a2", "alpha"));
        Queue(emitter, outcomes, Event("b1", "beta"));

        await Eventually.WaitAsync(() => outcomes.Count == 3, "three outcomes");

        outcomes.Values.Should().AllSatisfy(e => e.Should().BeNull());
        var received = _ingress.Received.ToDictionary(e => e.Id);
        received["a1"].Attributes["seqnum"].CeString.Should().Be("1");
        received["a2"].Attributes["seqnum"].CeString.Should().Be("2");
        received["b1"].Attributes["seqnum"].CeString.Should().Be("1");
        original.Attributes.Should().NotContainKey("seqnum", "the caller's event is not modified");
        (await emitter.PingAsync()).Should().Be("pong");
    }

    [Fact]
    public async Task An_event_whose_send_could_outlast_its_deadline_is_handed_back_unsent()
    {
        var (emitter, outcomes) = await StartAsync(o => o.PublishTimeout = TimeSpan.FromSeconds(5));
        await using var _ = emitter;

        // 1 s left to send is less than a 5 s publish could take: the row's lease would end mid-send.
        emitter.TryQueue(Event("late"), TimeSpan.FromSeconds(1), error => outcomes["late"] = error).Should().Be(QueueResult.Queued);
        Queue(emitter, outcomes, Event("due"));

        await Eventually.WaitAsync(() => outcomes.Count == 2, "both outcomes");
        outcomes["late"].Should().BeOfType<DeliveryLeaseEndedException>().Which.EventId.Should().Be("late");
        outcomes["due"].Should().BeNull();
        _ingress.Received.Select(e => e.Id).Should().Equal("due");
    }

    [Fact]
    public async Task Per_event_results_fail_only_the_rejected_events()
    {
        _ingress.Mode = IngressMode.RejectEveryOther;
        var (emitter, outcomes) = await StartAsync(o => o.BatchInterval = TimeSpan.FromMilliseconds(200));
        await using var _ = emitter;
        for (var i = 0; i < 4; i++)
        {
            Queue(emitter, outcomes, Event($"e{i}"));
        }

        await Eventually.WaitAsync(() => outcomes.Count == 4, "four outcomes");

        _ingress.BatchCalls.Should().Be(1);
        outcomes["e0"].Should().BeNull();
        outcomes["e2"].Should().BeNull();
        outcomes["e1"].Should().BeOfType<IngressRejectedException>().Which.Code.Should().Be(PublishErrorCode.ValidationFailed);
        outcomes["e3"].Should().BeOfType<IngressRejectedException>().Which.Reason.Should().Be("test rejection");
    }

    [Fact]
    public async Task An_unavailable_ingress_fails_every_event_of_the_batch()
    {
        _ingress.Mode = IngressMode.Unavailable;
        var (emitter, outcomes) = await StartAsync();
        await using var _ = emitter;
        Queue(emitter, outcomes, Event("x"));
        Queue(emitter, outcomes, Event("y"));

        await Eventually.WaitAsync(() => outcomes.Count == 2, "two outcomes");
        outcomes.Values.Should().AllSatisfy(e => e.Should().BeOfType<RpcException>().Which.StatusCode.Should().Be(StatusCode.Unavailable));
    }

    [Fact]
    public async Task Batches_are_split_under_the_request_limit_and_an_oversized_event_fails_alone()
    {
        var (emitter, outcomes) = await StartAsync(o =>
        {
            o.MaxRequestBytes = 64 * 1024;
            o.BatchInterval = TimeSpan.FromMilliseconds(200);
        });
        await using var _ = emitter;
        for (var i = 0; i < 6; i++)
        {
            Queue(emitter, outcomes, Event($"big{i}", bytes: 20 * 1024));
        }

        Queue(emitter, outcomes, Event("huge", bytes: 80 * 1024));

        await Eventually.WaitAsync(() => outcomes.Count == 7, "seven outcomes");
        _ingress.BatchCalls.Should().BeGreaterThanOrEqualTo(3, "six 20 KiB events cannot share one 54 KiB request");
        outcomes.Where(o => o.Key.StartsWith("big", StringComparison.Ordinal)).Should().AllSatisfy(o => o.Value.Should().BeNull());
        outcomes["huge"].Should().BeOfType<DurableEmitterException>().Which.Message.Should().Contain("exceeds");
    }

    [Fact]
    public async Task A_full_buffer_refuses_without_blocking_and_a_stopped_transport_refuses_too()
    {
        _ingress.Mode = IngressMode.Unavailable;
        var (emitter, outcomes) = await StartAsync(o =>
        {
            o.BufferSize = 2;
            o.BatchSize = 1;
            o.MaxConcurrentSends = 1;
        });
        var results = Enumerable.Range(0, 50).Select(i => emitter.TryQueue(Event($"f{i}"), TimeSpan.FromMinutes(1), _ => { })).ToList();
        results.Should().Contain(QueueResult.BufferFull);

        await emitter.StopAsync();
        emitter.TryQueue(Event("late"), TimeSpan.FromMinutes(1), _ => { }).Should().Be(QueueResult.Stopped);
        await emitter.DisposeAsync();
    }

    [Fact]
    public async Task Static_and_basic_auth_headers_reach_the_ingress()
    {
        var (emitter, outcomes) = await StartAsync(o =>
        {
            o.Headers["X-Api-Key"] = "k-123";
            o.BasicAuthUser = "user";
            o.BasicAuthPassword = "pass";
        });
        await using var _ = emitter;
        Queue(emitter, outcomes, Event("h"));
        await Eventually.WaitAsync(() => outcomes.Count == 1, "one outcome");

        _ingress.LastHeaders["x-api-key"].Should().Be("k-123");
        _ingress.LastHeaders["authorization"].Should().Be("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass")));
    }

    [Fact]
    public async Task Rotating_auth_fails_until_a_signer_is_set_then_signs_the_key_and_timestamp()
    {
        var (emitter, outcomes) = await StartAsync(o => o.RotatingAuthPublicKeyHex = "0a0b0c");
        await using var _ = emitter;
        Queue(emitter, outcomes, Event("before"));
        await Eventually.WaitAsync(() => outcomes.ContainsKey("before"), "the unsigned call");
        outcomes["before"].Should().BeOfType<IngressAuthException>().Which.Message.Should().Contain("keystore not yet available");
        _ingress.BatchCalls.Should().Be(0, "no call is made without auth");

        var signer = new ReversingSigner();
        emitter.RotatingAuth!.SetSigner(signer);
        Queue(emitter, outcomes, Event("after"));
        await Eventually.WaitAsync(() => outcomes.ContainsKey("after"), "the signed call");

        outcomes["after"].Should().BeNull();
        var parts = _ingress.LastHeaders[RotatingSignedHeaderProvider.HeaderName].Split(':');
        parts[0].Should().Be("2");
        parts[1].Should().Be("0a0b0c");
        var nanos = long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        var signed = new byte[] { 0x0a, 0x0b, 0x0c }.Concat(BitConverter.GetBytes(nanos).Reverse()).ToArray();
        parts[3].Should().Be(Convert.ToHexString(signed.Reverse().ToArray()).ToLowerInvariant());
    }

    [Fact]
    public async Task Unary_publish_is_the_fallback_path()
    {
        var (emitter, _) = await StartAsync();
        await using var __ = emitter;
        await emitter.PublishAsync(Event("unary"), CancellationToken.None);
        _ingress.UnaryCalls.Should().Be(1);
        _ingress.Received.Select(e => e.Id).Should().Contain("unary");

        _ingress.Mode = IngressMode.Unavailable;
        var fail = () => emitter.PublishAsync(Event("down"), CancellationToken.None).AsTask();
        await fail.Should().ThrowAsync<RpcException>();
    }

    [Theory]
    [InlineData(null, "Endpoint is required")]
    [InlineData("no-port", "Endpoint \"no-port\" is invalid")]
    [InlineData("unix:relative.sock", "absolute socket path")]
    public void Bad_endpoints_are_refused_with_the_setting_named(string? endpoint, string message)
    {
        var create = () => new GrpcBatchEmitter(new GrpcIngressOptions { Endpoint = endpoint });
        create.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage($"*{message}*");
    }

    [Fact]
    public async Task A_publish_the_ingress_never_answers_is_reported_as_DeadlineExceeded_not_Cancelled()
    {
        _ingress.Mode = IngressMode.Hang;
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var emitter = new GrpcBatchEmitter(new GrpcIngressOptions { Endpoint = _ingress.Endpoint, PublishTimeout = TimeSpan.FromSeconds(2) }, null, time);

        var unary = emitter.PublishAsync(Event("hung-unary"), CancellationToken.None).AsTask();
        await Eventually.WaitAsync(() => _ingress.UnaryCalls == 1, "the call held at the ingress");
        time.Advance(TimeSpan.FromSeconds(2));
        var error = (await unary.Invoking(t => t).Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.DeadlineExceeded);
        error.Status.Detail.Should().Contain("00:00:02");

        // A caller that gives up is still a cancellation.
        using var giveUp = new CancellationTokenSource();
        var cancelled = emitter.PublishAsync(Event("given-up"), giveUp.Token).AsTask();
        await Eventually.WaitAsync(() => _ingress.UnaryCalls == 2, "the second call held at the ingress");
        await giveUp.CancelAsync();
        (await cancelled.Invoking(t => t).Should().ThrowAsync<Exception>()).Which.Should().Match<Exception>(e =>
            e is OperationCanceledException || (e is RpcException && ((RpcException)e).StatusCode == StatusCode.Cancelled));
    }

    [Fact]
    public async Task A_batch_the_ingress_never_answers_fails_each_event_with_DeadlineExceeded()
    {
        _ingress.Mode = IngressMode.Hang;
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var emitter = new GrpcBatchEmitter(new GrpcIngressOptions { Endpoint = _ingress.Endpoint, PublishTimeout = TimeSpan.FromSeconds(2), BatchInterval = TimeSpan.Zero }, null, time);
        await emitter.StartAsync();
        var outcomes = new ConcurrentDictionary<string, Exception?>();
        Queue(emitter, outcomes, Event("hung-batch"));
        await Eventually.WaitAsync(() => _ingress.BatchCalls == 1, "the batch held at the ingress");

        time.Advance(TimeSpan.FromSeconds(2));

        await Eventually.WaitAsync(() => outcomes.ContainsKey("hung-batch"), "the batch's outcome");
        outcomes["hung-batch"].Should().BeOfType<RpcException>().Which.StatusCode.Should().Be(StatusCode.DeadlineExceeded);
        await emitter.StopAsync();
    }

    private sealed class ReversingSigner : IIngressSigner
    {
        public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            ValueTask.FromResult(data.ToArray().Reverse().ToArray());
    }
}
