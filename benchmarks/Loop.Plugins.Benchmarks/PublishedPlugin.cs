using System.Diagnostics;
using Loop.Testing;

namespace Loop.Plugins.Benchmarks;

/// <summary>Publishes the sample plugin with extra MSBuild properties (ReadyToRun, say) into a scratch folder.</summary>
internal static class PublishedPlugin
{
    public static async Task<string> PublishAsync(string name, params string[] properties)
    {
        var project = Path.Combine(BuiltProgram.RepositoryRoot(), "samples", "Loop.SamplePlugin", "Loop.SamplePlugin.csproj");
        var output = ProcessScratch.Create("loop-bench-" + name);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "publish", project, "-c", "Release", "-r", "linux-x64", "-o", output, "-nologo" }.Concat(properties))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0
            ? Path.Combine(output, "Loop.SamplePlugin")
            : throw new InvalidOperationException($"dotnet publish {string.Join(' ', properties)} failed ({process.ExitCode}): {await stdout}{await stderr}");
    }
}
