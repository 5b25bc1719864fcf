using System.Diagnostics;

namespace Loop.Testing;

/// <summary>Publishes the sample plugin with Native AOT once per run (into a temp folder) and returns the binary and the publish log.</summary>
public static class AotSamplePlugin
{
    private static readonly Lazy<Task<(string Binary, string Log)>> Published = new(PublishAsync);

    /// <summary>The AOT-compiled sample plugin and the publish output.</summary>
    public static Task<(string Binary, string Log)> PublishOnceAsync() => Published.Value;

    private static async Task<(string Binary, string Log)> PublishAsync()
    {
        var project = Path.Combine(BuiltProgram.RepositoryRoot(), "samples", "Loop.SamplePlugin", "Loop.SamplePlugin.csproj");
        var output = ProcessScratch.Create("loop-aot");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", output, "-nologo" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var log = await stdout + await stderr;
        return process.ExitCode == 0
            ? (Path.Combine(output, "Loop.SamplePlugin"), log)
            : throw new InvalidOperationException($"dotnet publish -p:PublishAot=true failed ({process.ExitCode}): {log}");
    }
}
