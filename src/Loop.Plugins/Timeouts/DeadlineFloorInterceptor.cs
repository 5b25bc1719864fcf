using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Loop.Plugins;

/// <summary>
/// Raises a call's deadline to now + the floor when it is sooner: a plugin call crosses a process boundary, so a
/// deadline of a few milliseconds (a placeholder <c>MaxDurationQuery = 0</c> in an on-chain config, say) would fail
/// every call rather than bound it. Calls without a deadline are left alone.
/// </summary>
internal sealed class DeadlineFloorInterceptor(TimeSpan floor, TimeProvider timeProvider) : Interceptor
{
    public TimeSpan Floor { get; } = floor;

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, Raise(context));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, Raise(context));

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, Raise(context));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(Raise(context));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(Raise(context));

    private ClientInterceptorContext<TRequest, TResponse> Raise<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        if (context.Options.Deadline is not { } deadline || deadline == DateTime.MaxValue)
        {
            return context;
        }

        var earliest = timeProvider.GetUtcNow().UtcDateTime + Floor;
        return deadline.ToUniversalTime() >= earliest
            ? context
            : new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithDeadline(earliest));
    }
}
