using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Tests;

/// <summary>An external adapter on a loopback port: answers each POST as <see cref="Answer"/> says (or hangs), and keeps what it received.</summary>
public sealed class TestAdapter : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    private TestAdapter(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The JSON answer (or null to hang until disposed).</summary>
    public volatile string? Answer = """{"pending":true}""";

    public Uri Url { get; private set; } = null!;

    public ConcurrentQueue<(string? Authorization, JsonNode? Body)> Requests { get; } = new();

    public static async Task<TestAdapter> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var adapter = new TestAdapter(app);
        app.MapPost("/", (RequestDelegate)(async context =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body);
            adapter.Requests.Enqueue((context.Request.Headers.Authorization.ToString(), body));
            if (adapter.Answer is not { } answer)
            {
                await Task.Delay(Timeout.Infinite, adapter._stopping.Token).ContinueWith(_ => { });
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer);
        }));
        await app.StartAsync();
        adapter.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return adapter;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
