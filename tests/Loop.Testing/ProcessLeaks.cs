using System.Text;

namespace Loop.Testing;

/// <summary>
/// Finds the processes a test started, grandchildren included, by a marker (usually the test's temp folder): a live
/// process whose command line or environment holds it. Processes re-parented to init after their parent died are found
/// too, which a walk down the process tree would miss.
/// </summary>
public static class ProcessLeaks
{
    /// <summary>The live (not zombie) processes other than this one whose command line or environment contains <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> Find(string marker)
    {
        var found = new List<int>();
        var needle = Encoding.UTF8.GetBytes(marker);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
                {
                    continue;
                }

                if (File.ReadAllBytes(Path.Combine(dir, "cmdline")).AsSpan().IndexOf(needle) >= 0
                    || File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(needle) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return found;
    }

    /// <summary>
    /// Waits up to <paramref name="grace"/> (a SIGKILLed process takes a moment to be reaped) for every marked process to
    /// be gone; kills any that are left, so one failing test does not leak into the next, and throws naming them.
    /// </summary>
    public static void AssertNone(string marker, TimeSpan? grace = null)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)((grace ?? TimeSpan.FromSeconds(5)).TotalSeconds * TimeProvider.System.TimestampFrequency);
        IReadOnlyList<int> left;
        while ((left = Find(marker)).Count > 0 && TimeProvider.System.GetTimestamp() < deadline)
        {
            Task.Delay(20).GetAwaiter().GetResult();
        }

        if (left.Count == 0)
        {
            return;
        }

        var described = left.Select(pid => $"{pid} ({Describe(pid)})").ToArray();
        foreach (var pid in left)
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }

        throw new InvalidOperationException($"processes started by the test were left running: {string.Join(", ", described)}");
    }

    private static string Describe(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "gone";
        }
    }
}
