namespace Loop.Services;

/// <summary>A service was used in a lifecycle state that does not allow the operation.</summary>
public sealed class ServiceStateException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="serviceName"/> found in <paramref name="state"/>.</summary>
    public ServiceStateException(string serviceName, ServiceState state, string operation)
        : base($"{serviceName}: cannot {operation}: the service is {state}, not {ServiceState.Started}.")
    {
        ServiceName = serviceName;
        State = state;
    }

    /// <summary>The service's name.</summary>
    public string ServiceName { get; }

    /// <summary>The state the service was in.</summary>
    public ServiceState State { get; }
}
