namespace Loop.Visor;

/// <summary>Options of a Visor hosted in a .NET host (<c>AddVisor</c>).</summary>
public sealed class VisorHostOptions
{
    /// <summary>The home folder. Required; it must exist (create it with <c>loop-visor init</c> or <see cref="VisorHome.Init"/>).</summary>
    public string? Home { get; set; }

    /// <summary>Stop the host when Visor ends on its own (max restarts, unreachable status), with its exit code. Default true.</summary>
    public bool StopHostWhenVisorExits { get; set; } = true;

    /// <summary>Supervisor options not in config.toml.</summary>
    public VisorServiceOptions Service { get; } = new();
}
