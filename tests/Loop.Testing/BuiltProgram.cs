using System.Diagnostics;

namespace Loop.Testing;

/// <summary>Finds and starts programs of this repository that the test project built beside itself.</summary>
public static class BuiltProgram
{
    /// <summary>The path of <paramref name="assembly"/> built by the project in <paramref name="projectFolder"/> (relative to the repository root), same configuration as the tests.</summary>
    public static string Path(string projectFolder, string assembly)
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        var configuration = bin.Parent!.Name;
        var root = bin;
        while (root is not null && !File.Exists(System.IO.Path.Combine(root.FullName, "Loop.sln")))
        {
            root = root.Parent;
        }

        var path = System.IO.Path.Combine(root?.FullName ?? throw new InvalidOperationException("Loop.sln not found above " + AppContext.BaseDirectory),
            projectFolder, "bin", configuration, bin.Name, assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{assembly} is not built at {path}");
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
