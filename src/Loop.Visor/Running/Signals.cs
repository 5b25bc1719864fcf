using System.Runtime.InteropServices;

namespace Loop.Visor.Running;

/// <summary>POSIX signals: .NET can only SIGKILL a process, and a graceful stop needs SIGTERM first.</summary>
internal static partial class Signals
{
    public const int SigTerm = 15;

    /// <summary>Sends SIGTERM; false when the process is already gone.</summary>
    public static bool Terminate(int pid) => OperatingSystem.IsWindows() ? false : Kill(pid, SigTerm) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
