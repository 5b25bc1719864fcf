namespace Loop.Visor;

/// <summary>
/// The live <c>config.toml</c>: <see cref="Reload"/> picks up an edit, validates it and swaps every field at once; an
/// invalid edit is reported and the previous values stay.
/// </summary>
public sealed class VisorConfigSource
{
    private (DateTime Written, long Length) _stamp;

    /// <summary>Loads the file (it must be valid at start).</summary>
    public VisorConfigSource(string path)
    {
        Path = path;
        Current = VisorConfigFile.Load(path);
        _stamp = Stamp();
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The config in force.</summary>
    public VisorConfig Current { get; private set; }

    /// <summary>Re-reads the file if it changed. Returns the new config, or null when unchanged; throws for an invalid edit (the old values stay).</summary>
    public VisorConfig? Reload()
    {
        var stamp = Stamp();
        if (stamp == _stamp)
        {
            return null;
        }

        _stamp = stamp;
        var next = VisorConfigFile.Load(Path);
        Current = next;
        return next;
    }

    private (DateTime, long) Stamp()
    {
        var info = new FileInfo(Path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }
}
