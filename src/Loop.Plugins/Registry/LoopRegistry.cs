using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Plugins;

/// <summary>
/// The host's <see cref="ILoopRegistry"/>: each registration takes a port from the <see cref="PortPool"/> and carries
/// the host's tracing settings. Safe for concurrent use.
/// </summary>
public sealed partial class LoopRegistry : ILoopRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RegisteredLoop> _loops = new(StringComparer.Ordinal);
    private readonly PortPool _ports;
    private readonly LoopTracingConfig _tracing;
    private readonly ILogger _logger;

    /// <summary>Creates a registry.</summary>
    public LoopRegistry(PortPool? ports = null, LoopTracingConfig? tracing = null, ILogger<LoopRegistry>? logger = null)
    {
        _ports = ports ?? new PortPool();
        _tracing = tracing ?? LoopTracingConfig.Disabled;
        _logger = logger ?? NullLogger<LoopRegistry>.Instance;
    }

    /// <inheritdoc />
    public RegisteredLoop Register(string id)
    {
        PluginName.Require(id);
        lock (_gate)
        {
            if (_loops.ContainsKey(id))
            {
                throw new PluginAlreadyRegisteredException(id);
            }

            var loop = new RegisteredLoop(id, new LoopEnvConfig { PrometheusPort = _ports.Take(), Tracing = _tracing });
            _loops.Add(id, loop);
            PluginsLog.Registered(_logger, id, loop.EnvConfig.PrometheusPort);
            return loop;
        }
    }

    /// <inheritdoc />
    public bool TryGet(string id, out RegisteredLoop? registered)
    {
        lock (_gate)
        {
            return _loops.TryGetValue(id, out registered);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<RegisteredLoop> List()
    {
        lock (_gate)
        {
            return [.. _loops.Values.OrderBy(l => l.Name, StringComparer.Ordinal)];
        }
    }

    /// <inheritdoc />
    public bool Unregister(string id)
    {
        lock (_gate)
        {
            if (!_loops.Remove(id, out var loop))
            {
                PluginsLog.Unknown(_logger, id);
                return false;
            }

            _ports.Return(loop.EnvConfig.PrometheusPort);
            return true;
        }
    }
}
