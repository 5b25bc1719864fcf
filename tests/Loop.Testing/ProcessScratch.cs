namespace Loop.Testing;

/// <summary>
/// A folder in the temp folder for what one test process builds (the Go interop binaries, the AOT-published plugin),
/// removed when the process exits. Folders of the same kind left by processes that are gone (a killed run) are removed
/// when the next process makes its own.
/// </summary>
public static class ProcessScratch
{
    /// <summary>Creates <c>&lt;temp&gt;/&lt;prefix&gt;-&lt;pid&gt;</c>.</summary>
    public static string Create(string prefix)
    {
        var temp = Path.GetTempPath();
        foreach (var stale in Directory.GetDirectories(temp, prefix + "-*"))
        {
            if (int.TryParse(Path.GetFileName(stale).AsSpan(prefix.Length + 1), out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                TryDelete(stale);
            }
        }

        var path = Path.Combine(temp, $"{prefix}-{Environment.ProcessId}");
        Directory.CreateDirectory(path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(path);
        return path;
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Another run's files, or still in use: left for a later sweep.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
