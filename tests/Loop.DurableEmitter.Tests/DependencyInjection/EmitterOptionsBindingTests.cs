using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter.Tests.DependencyInjection;

/// <summary>The emitter's options bound from configuration: every bad value named by its configuration path, all at once.</summary>
public sealed class EmitterOptionsBindingTests
{
    [Fact]
    public async Task Bad_values_in_the_emitter_and_ingress_sections_are_all_named_by_path()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Loop:Emitter:EventTtl"] = "00:00:00",
            ["Loop:Emitter:PurgeBatchSize"] = "0",
            ["Loop:Emitter:InsertBatchFlushInterval"] = "-00:00:01",
            ["Loop:Emitter:Ingress:Endpoint"] = "127.0.0.1:1",
        });
        builder.Services.AddDurableEmitter(builder.Configuration.GetSection("Loop:Emitter"))
            .UseInMemoryStore()
            .UseGrpcIngress(builder.Configuration.GetSection("Loop:Emitter:Ingress"));
        using var host = builder.Build();

        var error = (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        var failures = string.Join("\n", error.Failures);

        failures.Should().Contain("Loop:Emitter:EventTtl must be positive (was 00:00:00)")
            .And.Contain("Loop:Emitter:PurgeBatchSize must be positive (was 0)")
            .And.Contain("Loop:Emitter:InsertBatchFlushInterval must not be negative (was -00:00:01)");
    }

    [Fact]
    public async Task Ingress_values_are_named_by_path_too()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Loop:Emitter:Ingress:Endpoint"] = "no-port",
            ["Loop:Emitter:Ingress:BatchSize"] = "0",
            ["Loop:Emitter:Ingress:MaxRequestBytes"] = "100",
            ["Loop:Emitter:Ingress:BasicAuthUser"] = "user",
        });
        builder.Services.AddDurableEmitter(builder.Configuration.GetSection("Loop:Emitter"))
            .UseInMemoryStore()
            .UseGrpcIngress(builder.Configuration.GetSection("Loop:Emitter:Ingress"));
        using var host = builder.Build();

        var failures = string.Join("\n", (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which.Failures);

        failures.Should().Contain("Loop:Emitter:Ingress:Endpoint \"no-port\" is invalid")
            .And.Contain("Loop:Emitter:Ingress:BatchSize must be positive (was 0)")
            .And.Contain("Loop:Emitter:Ingress:MaxRequestBytes must be 65536 to 2147483647 (was 100)")
            .And.Contain("Loop:Emitter:Ingress:BasicAuthUser and BasicAuthPassword must be set together");
    }

    [Fact]
    public async Task Options_set_in_code_are_named_by_type()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDurableEmitter(o => { o.EventTtl = TimeSpan.FromMinutes(1); o.RetransmitAfter = TimeSpan.FromMinutes(2); })
            .UseInMemoryStore()
            .UseGrpcIngress(o => o.Endpoint = "127.0.0.1:1");
        using var host = builder.Build();

        var failures = string.Join("\n", (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which.Failures);

        failures.Should().Contain("DurableEmitterOptions.RetransmitAfter must be below EventTtl (00:01:00)");
    }
}
