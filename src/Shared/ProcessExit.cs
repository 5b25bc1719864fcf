using System.Diagnostics;

namespace Loop.Processes;

/// <summary>
/// Starts a process and tells when it exits, from its exit alone. <see cref="Process.WaitForExitAsync"/> also waits for
/// the end of redirected stdout and stderr, which a grandchild that inherited them may hold open for ever. Compiled into
/// each package that starts processes (linked source, not a public type).
/// </summary>
internal static class ProcessExit
{
    /// <summary>Starts <paramref name="process"/> and returns a task that completes when it has exited.</summary>
    public static Task StartWatched(Process process)
    {
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => exited.TrySetResult();
        process.Start();

        // An exit before the handler was wired cannot be missed: the event is raised for it too, and HasExited covers
        // the rest.
        if (process.HasExited)
        {
            exited.TrySetResult();
        }

        return exited.Task;
    }
}
