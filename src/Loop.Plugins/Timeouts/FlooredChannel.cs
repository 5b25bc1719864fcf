using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Loop.Plugins;

/// <summary>
/// A plugin's channel as callers see it: the same connection, with every client made on it passing through the
/// <see cref="DeadlineFloorInterceptor"/>. Generated clients take a <see cref="ChannelBase"/>, so no caller can forget
/// the floor.
/// </summary>
internal sealed class FlooredChannel(ChannelBase inner, DeadlineFloorInterceptor floor) : ChannelBase(inner.Target)
{
    private readonly CallInvoker _invoker = inner.Intercept(floor);

    public override CallInvoker CreateCallInvoker() => _invoker;
}
