namespace Loop.Visor;

/// <summary>A binary of a run config cannot be started: missing, not a file, or not executable.</summary>
public sealed class VisorBinaryException(string processName, string path, string problem)
    : Exception($"{processName}: {path}: {problem}")
{
    /// <summary>The process's name in the run config.</summary>
    public string ProcessName { get; } = processName;

    /// <summary>The binary's path.</summary>
    public string Path { get; } = path;
}
