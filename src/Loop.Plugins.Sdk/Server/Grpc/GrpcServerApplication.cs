using System.Diagnostics;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Sdk.Grpc;

/// <summary>
/// The plugin's gRPC server as a Kestrel application: each request is dispatched by path to its bound method, without
/// ASP.NET Core's host, routing or Grpc.AspNetCore's endpoint machinery (which took most of a Native AOT plugin's start),
/// and with a server span per call when tracing listens. Requests on the metrics port go to <paramref name="metrics"/>.
/// </summary>
internal sealed class GrpcServerApplication(GrpcMethodTable methods, TimeProvider timeProvider, ILogger logger, int? metricsPort, Func<RequestDelegate>? metrics)
    : IHttpApplication<IFeatureCollection>
{
    /// <summary>The activity source of incoming calls' server spans.</summary>
    public const string ActivitySourceName = "Loop.Plugins.Sdk";

    private static readonly ActivitySource Source = new(ActivitySourceName);
    private readonly Lazy<RequestDelegate>? _metrics = metrics is null ? null : new Lazy<RequestDelegate>(metrics);

    public IFeatureCollection CreateContext(IFeatureCollection contextFeatures) => contextFeatures;

    public void DisposeContext(IFeatureCollection context, Exception? exception)
    {
    }

    public Task ProcessRequestAsync(IFeatureCollection context)
    {
        if (_metrics is not null && context.Get<IHttpConnectionFeature>()?.LocalPort == metricsPort)
        {
            return _metrics.Value(new DefaultHttpContext(context));
        }

        var request = context.GetRequiredFeature<IHttpRequestFeature>();
        var response = context.GetRequiredFeature<IHttpResponseFeature>();
        if (!IsGrpc(request.Headers.ContentType))
        {
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return Task.CompletedTask;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }

        return CallAsync(context, request.Path);
    }

    private static bool IsGrpc(string? contentType) =>
        contentType is not null
        && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == 16 || contentType[16] is '+' or ';');

    private async Task CallAsync(IFeatureCollection context, string path)
    {
        LiftBodyLimits(context);
        using var call = new GrpcCall(context, path, timeProvider);
        if (!methods.TryGet(path, out var method))
        {
            await FinishAsync(call, new Status(StatusCode.Unimplemented, $"Method {path} is unimplemented.")).ConfigureAwait(false);
            return;
        }

        using var activity = Source.HasListeners() ? StartActivity(context, method) : null;
        Status status;
        try
        {
            await method.InvokeAsync(call).ConfigureAwait(false);
            status = call.Status;
        }
        catch (RpcException ex)
        {
            status = ex.Status;
            foreach (var entry in ex.Trailers)
            {
                call.ResponseTrailers.Add(entry);
            }
        }
        catch (Exception) when (call.DeadlineExceeded)
        {
            status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        }
        catch (Exception) when (call.Aborted)
        {
            status = new Status(StatusCode.Cancelled, "Call canceled by the client.");
        }
        catch (Exception ex)
        {
            // As grpc-dotnet does by default: the caller learns that the handler failed, not its exception's text.
            PluginSdkLog.CallFailed(logger, path, ex);
            status = new Status(StatusCode.Unknown, "Exception was thrown by handler.");
        }

        activity?.SetTag("rpc.grpc.status_code", (int)status.StatusCode);
        if (status.StatusCode != StatusCode.OK)
        {
            activity?.SetStatus(ActivityStatusCode.Error, status.Detail);
        }

        await FinishAsync(call, status).ConfigureAwait(false);
    }

    /// <summary>
    /// As Grpc.AspNetCore does: a call's request stream has no size limit (Kestrel's default is 30 MB a request) and
    /// no minimum data rate (by default Kestrel aborts a request whose body comes slower than 240 bytes/s after 5 s,
    /// which a broker stream waiting for its next message is).
    /// </summary>
    internal static void LiftBodyLimits(IFeatureCollection context)
    {
        if (context.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        if (context.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }
    }

    private static async Task FinishAsync(GrpcCall call, Status status)
    {
        try
        {
            await call.FinishAsync(status).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The caller is gone (the stream was reset): there is nobody to tell the status to.
        }
    }

    private static Activity? StartActivity(IFeatureCollection context, GrpcMethod method)
    {
        var headers = context.GetRequiredFeature<IHttpRequestFeature>().Headers;
        ActivityContext.TryParse(headers["traceparent"], headers["tracestate"], isRemote: true, out var parent);
        var activity = Source.StartActivity(ActivityKind.Server, parent, name: method.Service + "/" + method.Name);
        activity?.SetTag("rpc.system", "grpc")
            .SetTag("rpc.service", method.Service)
            .SetTag("rpc.method", method.Name)
            .SetTag("url.path", method.Path);
        return activity;
    }
}
