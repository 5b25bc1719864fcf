using System.Globalization;
using System.Net;
using System.Text.Json;
using Loop.Plugins;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Prometheus HTTP service discovery and the per-plugin metrics proxy.</summary>
public static class PluginEndpoints
{
    /// <summary>The name of the proxy's HttpClient.</summary>
    public const string ProxyClientName = "Loop.Plugins.MetricsProxy";

    /// <summary>
    /// <c>GET /discovery</c>: Prometheus http_sd JSON, the host first (<c>__metrics_path__ = /metrics</c>), then each
    /// registered plugin by name (<c>/plugins/&lt;name&gt;/metrics</c>, label <c>plugin</c>). <c>GET /plugins/{name}/metrics</c>:
    /// the plugin's <c>/metrics</c> from 127.0.0.1 and its registered port; unknown name → 404, plugin down → 502. Only
    /// registered plugins are reachable and nothing in the request chooses the host or port.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is out of range (every one named).</exception>
    public static IEndpointConventionBuilder MapLoopPluginEndpoints(this IEndpointRouteBuilder endpoints, Action<PluginEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = new PluginEndpointOptions();
        configure?.Invoke(options);
        var validation = new Loop.Options.PathedOptionsValidator<PluginEndpointOptions>(Microsoft.Extensions.Options.Options.DefaultName, null, new PluginEndpointOptionsValidator())
            .Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(PluginEndpointOptions), validation.Failures);
        }

        var group = endpoints.MapGroup(string.Empty);
        // RequestDelegate handlers: no reflection over delegates, so the endpoints work under trimming and AOT.
        group.MapGet("/discovery", context => DiscoveryAsync(context, context.RequestServices.GetRequiredService<ILoopRegistry>(), options));
        group.MapGet("/plugins/{name}/metrics", context => ProxyAsync(
            context,
            context.Request.RouteValues["name"] as string ?? string.Empty,
            context.RequestServices.GetRequiredService<ILoopRegistry>(),
            context.RequestServices.GetRequiredService<IHttpClientFactory>(),
            options));
        return group;
    }

    private static async Task DiscoveryAsync(HttpContext context, ILoopRegistry registry, PluginEndpointOptions options)
    {
        var port = options.DiscoveryPort ?? context.Connection.LocalPort;
        var target = $"{options.ResolveHostName()}:{port.ToString(CultureInfo.InvariantCulture)}";
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartArray();
        WriteGroup(json, target, "/metrics", plugin: null);
        foreach (var loop in registry.List())
        {
            WriteGroup(json, target, $"/plugins/{loop.Name}/metrics", loop.Name);
        }

        json.WriteEndArray();
        await json.FlushAsync(context.RequestAborted).ConfigureAwait(false);

        static void WriteGroup(Utf8JsonWriter json, string target, string path, string? plugin)
        {
            json.WriteStartObject();
            json.WriteStartArray("targets");
            json.WriteStringValue(target);
            json.WriteEndArray();
            json.WriteStartObject("labels");
            json.WriteString("__metrics_path__", path);
            if (plugin is not null)
            {
                json.WriteString("plugin", plugin);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }
    }

    private static async Task ProxyAsync(HttpContext context, string name, ILoopRegistry registry, IHttpClientFactory clients, PluginEndpointOptions options)
    {
        if (!registry.TryGet(name, out var loop) || loop is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"plugin \"{WebUtility.HtmlEncode(name)}\" does not exist", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        // The target is always loopback and the registered port: nothing in the request can redirect the proxy.
        var url = new Uri($"http://127.0.0.1:{loop.EnvConfig.PrometheusPort.ToString(CultureInfo.InvariantCulture)}/metrics");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(options.ProxyTimeout);
        try
        {
            using var response = await clients.CreateClient(ProxyClientName).GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await BadGatewayAsync(context, $"plugin {name} answered {(int)response.StatusCode}").ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "text/plain; version=0.0.4";
            await response.Content.CopyToAsync(context.Response.Body, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            await BadGatewayAsync(context, ex is OperationCanceledException ? $"plugin {name} did not answer within {options.ProxyTimeout}" : $"plugin {name} is unreachable").ConfigureAwait(false);
        }
    }

    private static Task BadGatewayAsync(HttpContext context, string reason)
    {
        context.Response.StatusCode = StatusCodes.Status502BadGateway;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(WebUtility.HtmlEncode(reason), CancellationToken.None);
    }
}
