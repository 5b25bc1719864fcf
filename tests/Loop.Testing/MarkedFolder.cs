namespace Loop.Testing;

/// <summary>
/// A temp folder for a test that starts processes: scripts written here mark everything they run (their folder is
/// exported as LOOP_TEST_FOLDER, and inherited), and disposing fails the test when any of those processes still runs
/// (see <see cref="ProcessLeaks"/>), then deletes the folder.
/// </summary>
public sealed class MarkedFolder : IDisposable
{
    public MarkedFolder(string prefix) =>
        Path = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}")).FullName;

    public string Path { get; }

    /// <summary>Writes an executable <c>/bin/sh</c> script named <paramref name="name"/> running <paramref name="body"/>; returns its path.</summary>
    public string Script(string name, string body)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, $"#!/bin/sh\nexport LOOP_TEST_FOLDER='{Path}'\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }

        return path;
    }

    public void Dispose()
    {
        try
        {
            ProcessLeaks.AssertNone(Path);
        }
        finally
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
