using System.Diagnostics;
using System.Globalization;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Faults;

/// <summary>The throwaway PostgreSQL cluster the tests and benchmarks start does not outlive a process that is stopped.</summary>
public sealed class ThrowawayClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A benchmark stopped with timeout (SIGTERM) or Ctrl+C (SIGINT) ran no finally block and no dispose, and left its
    /// cluster running each time.
    /// </summary>
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_process_stopped_by_a_signal_stops_and_removes_its_cluster(string signal)
    {
        using var host = BuiltProgram.Start(BuiltProgram.Path("tests/Loop.DurableEmitter.CrashHost", "Loop.DurableEmitter.CrashHost.dll"), "postgres-server");
        string? folder = null;
        try
        {
            var ready = await host.StandardOutput.ReadLineAsync().WaitAsync(Deadline);
            ready.Should().StartWith("READY ", await ErrorsAsync(host, ready));
            folder = ready![6..];
            ProcessLeaks.Find(folder).Should().NotBeEmpty("the cluster runs while its process does");

            using (var kill = Process.Start("kill", [$"-{signal}", host.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync().WaitAsync(Deadline);
            }

            await host.WaitForExitAsync().WaitAsync(Deadline);
            ProcessLeaks.AssertNone(folder);
            Directory.Exists(folder).Should().BeFalse("the cluster's folder is removed");
        }
        finally
        {
            if (!host.HasExited)
            {
                host.Kill(entireProcessTree: true);
            }

            if (folder is not null)
            {
                ProcessLeaks.AssertNone(folder);
            }
        }
    }

    private static async Task<string> ErrorsAsync(Process host, string? ready) =>
        ready is null ? await host.StandardError.ReadToEndAsync() : string.Empty;
}
