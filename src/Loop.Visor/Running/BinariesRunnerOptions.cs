namespace Loop.Visor;

/// <summary>How <see cref="BinariesRunner"/> stops processes.</summary>
public sealed class BinariesRunnerOptions
{
    /// <summary>Wait before sending SIGTERM. Default 0.</summary>
    public TimeSpan StopDelay { get; set; }

    /// <summary>Wait after SIGTERM before SIGKILL. Default 15 s.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Inherit Visor's environment (then add the run config's). Default true, as a service manager would.</summary>
    public bool InheritEnvironment { get; set; } = true;
}
