using System.Runtime.InteropServices;

namespace Loop.Visor.Running;

/// <summary>
/// The POSIX calls .NET does not expose: SIGTERM (it can only SIGKILL), signals to a whole process group, and rename(2)
/// of a symlink to a folder.
/// </summary>
internal static partial class Posix
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends SIGTERM; false when the process is already gone.</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;

    /// <summary>
    /// Sends <paramref name="signal"/> to every process of the group <paramref name="pgid"/>, and to the process itself
    /// when the group does not exist (yet, or any more): between fork and <c>setsid</c> the child is still in Visor's group.
    /// </summary>
    public static void SignalGroup(int pgid, int signal)
    {
        if (pgid <= 1 || Kill(-pgid, signal) == 0)
        {
            return;
        }

        _ = Kill(pgid, signal);
    }

    /// <summary>Whether the group has a member that is not a zombie (it still runs and may hold resources).</summary>
    public static bool GroupHasLiveMembers(int pgid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // Gone meanwhile.
            }

            // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 4);
            if (fields.Length >= 3 && fields[0] != "Z" && fields[0] != "X" && int.TryParse(fields[2], out var group) && group == pgid)
            {
                return true;
            }
        }

        return false;
    }

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
