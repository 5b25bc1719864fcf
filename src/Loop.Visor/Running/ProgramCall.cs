using System.Diagnostics;

namespace Loop.Visor.Running;

/// <summary>Runs a short-lived program (version checks, hooks) to completion within a timeout.</summary>
internal static class ProgramCall
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string path, IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = await TextFileBusy.RetryAsync(() => Process.Start(start)).ConfigureAwait(false) ?? throw new InvalidOperationException($"could not start {path}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        _ = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{path} did not finish within {timeout}");
        }

        return (process.ExitCode, await output.ConfigureAwait(false));
    }
}
