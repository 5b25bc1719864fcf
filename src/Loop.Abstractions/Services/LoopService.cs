namespace Loop.Services;

/// <summary>
/// Base class for Loop services: a start-once, stop-once lifecycle around <see cref="OnStartAsync"/> and
/// <see cref="OnStopAsync"/>, readiness derived from the state, and a health report of named parts.
/// </summary>
public abstract class LoopService : ILoopService, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private ServiceState _state = ServiceState.Unstarted;
    private Task? _stopping;

    /// <summary>Creates the service with its name.</summary>
    protected LoopService(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The current lifecycle state.</summary>
    public ServiceState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_state != ServiceState.Unstarted)
            {
                throw new ServiceStateException(Name, _state, "start");
            }

            _state = ServiceState.Starting;
        }

        try
        {
            await OnStartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                _state = ServiceState.StartFailed;
            }

            throw;
        }

        lock (_gate)
        {
            // A stop that raced the start already moved the state on; leave it there.
            if (_state == ServiceState.Starting)
            {
                _state = ServiceState.Started;
            }
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_stopping is not null)
            {
                return _stopping;
            }

            var wasRunning = _state is ServiceState.Started or ServiceState.Starting;
            _state = ServiceState.Stopping;
            _stopping = wasRunning ? StopCoreAsync(cancellationToken) : MarkStopped();
            return _stopping;
        }
    }

    /// <inheritdoc />
    public virtual Exception? CheckReady()
    {
        var state = State;
        return state == ServiceState.Started ? null : new ServiceStateException(Name, state, "serve");
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Exception?> GetHealthReport()
    {
        var report = new Dictionary<string, Exception?>(StringComparer.Ordinal) { [Name] = CheckReady() };
        ReportParts(report);
        return report;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the service's work. Runs once.</summary>
    protected abstract Task OnStartAsync(CancellationToken cancellationToken);

    /// <summary>Stops the service's work. Runs once, and only if the service started.</summary>
    protected abstract Task OnStopAsync(CancellationToken cancellationToken);

    /// <summary>Adds the health of named parts (keys prefixed with the service name by convention).</summary>
    protected virtual void ReportParts(IDictionary<string, Exception?> report)
    {
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await OnStopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await MarkStopped().ConfigureAwait(false);
        }
    }

    private Task MarkStopped()
    {
        lock (_gate)
        {
            _state = ServiceState.Stopped;
        }

        return Task.CompletedTask;
    }
}
