namespace Loop.Demo;

/// <summary>Finds the sample plugin's executable: <c>Demo:PluginPath</c>, else its build output in this repository.</summary>
internal static class SamplePluginLocation
{
    public static string Find(string? configured)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        // The plugin runs from its own output folder: copied beside the demo its deps.json would name assemblies the
        // web SDK left out (they are in the shared framework).
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        for (var dir = bin; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Loop.sln")))
            {
                return Path.Combine(dir.FullName, "samples", "Loop.SamplePlugin", "bin", bin.Parent!.Name, bin.Name, "Loop.SamplePlugin");
            }
        }

        throw new InvalidOperationException("Loop.SamplePlugin not found: set Demo:PluginPath to its executable.");
    }
}
