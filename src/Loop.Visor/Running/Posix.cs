using System.Runtime.InteropServices;

namespace Loop.Visor.Running;

/// <summary>The POSIX calls .NET does not expose: SIGTERM (it can only SIGKILL), and rename(2) of a symlink to a folder.</summary>
internal static partial class Posix
{
    public const int SigTerm = 15;

    /// <summary>Sends SIGTERM; false when the process is already gone.</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;

    /// <summary>Atomically replaces <paramref name="to"/> with <paramref name="from"/> (links are not followed).</summary>
    public static void Rename(string from, string to)
    {
        if (RenameCore(from, to) != 0)
        {
            throw new IOException($"rename {from} -> {to} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameCore(string from, string to);
}
