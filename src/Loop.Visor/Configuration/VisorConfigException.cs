namespace Loop.Visor;

/// <summary>A Visor configuration file is invalid. The message names the file, the line and the key.</summary>
public sealed class VisorConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VisorConfigException(string file, int line, string? key, string problem)
        : base(key is null ? $"{file}:{line}: {problem}" : $"{file}:{line}: {key}: {problem}")
    {
        File = file;
        Line = line;
        Key = key;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>The 1-based line, or 0 for the whole file.</summary>
    public int Line { get; }

    /// <summary>The dotted key at fault, if any.</summary>
    public string? Key { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }
}
