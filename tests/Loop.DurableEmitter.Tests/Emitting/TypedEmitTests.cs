using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf.WellKnownTypes;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Emitting;

public sealed record OrderPlaced(string OrderId, int Quantity);

[JsonSerializable(typeof(OrderPlaced))]
public sealed partial class OrderJson : JsonSerializerContext;

/// <summary>Typed bodies: each is serialized and labelled with its content type; source and type are required at compile time.</summary>
public sealed class TypedEmitTests
{
    private static readonly EventAttributes Attributes = new() { Source = "shop", Type = "order.placed" };

    [Fact]
    public void Source_and_type_are_required_members_so_leaving_one_out_does_not_compile()
    {
        typeof(EventAttributes).GetProperty(nameof(EventAttributes.Source))!.IsDefined(typeof(RequiredMemberAttribute), false).Should().BeTrue();
        typeof(EventAttributes).GetProperty(nameof(EventAttributes.Type))!.IsDefined(typeof(RequiredMemberAttribute), false).Should().BeTrue();
    }

    [Fact]
    public async Task A_value_emitted_as_json_with_source_generation_is_json_and_labelled_so()
    {
        await using var h = new EmitterHarness();
        await h.Emitter.StartAsync();
        IDurableEventEmitter emitter = h.Emitter;

        await emitter.EmitJsonAsync(new OrderPlaced("o-1", 3), OrderJson.Default.OrderPlaced, Attributes);

        await Eventually.WaitAsync(() => h.Delivered.Count == 1, "the event delivered");
        var e = h.Delivered[0];
        e.Attributes["datacontenttype"].CeString.Should().Be("application/json");
        JsonSerializer.Deserialize(e.ProtoData.Value.Span, OrderJson.Default.OrderPlaced).Should().Be(new OrderPlaced("o-1", 3));
    }

    [Fact]
    public async Task A_value_emitted_as_json_by_reflection_uses_the_web_defaults_and_a_callers_content_type_wins()
    {
        await using var h = new EmitterHarness();
        await h.Emitter.StartAsync();
        IDurableEventEmitter emitter = h.Emitter;

        await emitter.EmitJsonAsync(new OrderPlaced("o-2", 1), Attributes, CancellationToken.None);
        await emitter.EmitJsonAsync(new OrderPlaced("o-3", 1), Attributes with { DataContentType = "application/vnd.shop+json" }, CancellationToken.None);

        await Eventually.WaitAsync(() => h.Delivered.Count == 2, "both events delivered");
        var first = h.Delivered.Single(e => e.ProtoData.Value.ToStringUtf8().Contains("o-2", StringComparison.Ordinal));
        first.ProtoData.Value.ToStringUtf8().Should().Be("""{"orderId":"o-2","quantity":1}""");
        first.Attributes["datacontenttype"].CeString.Should().Be("application/json");
        h.Delivered.Single(e => e != first).Attributes["datacontenttype"].CeString.Should().Be("application/vnd.shop+json");
    }

    [Fact]
    public async Task A_protobuf_message_carries_its_type_url_and_the_protobuf_content_type()
    {
        await using var h = new EmitterHarness();
        await h.Emitter.StartAsync();
        IDurableEventEmitter emitter = h.Emitter;
        var message = new Duration { Seconds = 42 };

        await emitter.EmitAsync(message, Attributes);

        await Eventually.WaitAsync(() => h.Delivered.Count == 1, "the event delivered");
        var e = h.Delivered[0];
        e.Attributes["datacontenttype"].CeString.Should().Be("application/protobuf");
        e.Attributes["dataschema"].CeUri.Should().Be("type.googleapis.com/google.protobuf.Duration");
        e.ProtoData.TypeUrl.Should().Be("type.googleapis.com/google.protobuf.Duration");
        e.ProtoData.Unpack<Duration>().Should().Be(message);
    }
}
