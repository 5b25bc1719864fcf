using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Plugins;

/// <summary>
/// The host's <see cref="ILoopRegistry"/>: each registration takes a Prometheus port from the host's pool and carries
/// the host's tracing settings. Safe for concurrent use.
/// </summary>
public sealed partial class LoopRegistry : ILoopRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RegisteredLoop> _loops = new(StringComparer.Ordinal);
    private readonly PortPool _ports;
    private readonly LoopTracingConfig _tracing;
    private readonly ILogger _logger;

    /// <summary>
    /// Creates a registry that hands out Prometheus ports from <see cref="PluginPorts.PrometheusFirst"/> to
    /// <see cref="PluginPorts.PrometheusLast"/>, with tracing off.
    /// </summary>
    public LoopRegistry()
        : this(new PortPool())
    {
    }

    /// <summary>
    /// Creates a registry with the host's settings: Prometheus ports from <see cref="LoopPluginsOptions.FirstPort"/> to
    /// <see cref="LoopPluginsOptions.LastPort"/>, and <see cref="LoopPluginsOptions.Tracing"/> for every plugin.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The port range is not within 1024–65535, or is empty.</exception>
    public LoopRegistry(LoopPluginsOptions options, ILogger<LoopRegistry>? logger = null, TimeProvider? timeProvider = null)
        : this(new PortPool((options ?? throw new ArgumentNullException(nameof(options))).FirstPort, options.LastPort, timeProvider), options.Tracing, logger)
    {
    }

    /// <summary>Creates a registry over a given pool (the host's, shared with the checks that keep plugins' ports clear of it).</summary>
    internal LoopRegistry(PortPool ports, LoopTracingConfig? tracing = null, ILogger<LoopRegistry>? logger = null)
    {
        _ports = ports;
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
