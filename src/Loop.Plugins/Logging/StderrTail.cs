namespace Loop.Plugins;

/// <summary>The last few lines a plugin wrote on stderr while it started, to say why a start failed.</summary>
internal sealed class StderrTail
{
    private const int Lines = 5;
    private const int LineLength = 300;
    private readonly Queue<string> _lines = new();
    private readonly Lock _gate = new();

    public void Add(string line)
    {
        lock (_gate)
        {
            _lines.Enqueue(line.Length > LineLength ? line[..LineLength] + "…" : line);
            if (_lines.Count > Lines)
            {
                _lines.Dequeue();
            }
        }
    }

    /// <summary>The lines joined with " | ", or null when the plugin wrote none.</summary>
    public string? Describe()
    {
        lock (_gate)
        {
            return _lines.Count == 0 ? null : string.Join(" | ", _lines);
        }
    }
}
