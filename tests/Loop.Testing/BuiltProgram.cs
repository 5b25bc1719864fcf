using System.Diagnostics;

namespace Loop.Testing;

/// <summary>Finds and starts programs of this repository that the test project built beside itself.</summary>
public static class BuiltProgram
{
    /// <summary>The path of <paramref name="assembly"/> built by the project in <paramref name="projectFolder"/> (relative to the repository root), same configuration as the tests.</summary>
    public static string Path(string projectFolder, string assembly)
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        var path = System.IO.Path.Combine(RepositoryRoot(), projectFolder, "bin", bin.Parent!.Name, bin.Name, assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{assembly} is not built at {path}");
    }

    /// <summary>The folder holding Loop.sln, found above the running program.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Loop.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Loop.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Starts <c>dotnet &lt;dll&gt; args…</c> with redirected output.</summary>
    public static Process Start(string dll, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }
}
