namespace Loop.Visor.Running;

/// <summary>
/// Finds <c>setsid(1)</c> (util-linux, on every Debian and most Linux systems), which starts a program as the leader of
/// a new session and process group without changing its pid. .NET's <see cref="System.Diagnostics.Process"/> cannot
/// put a child in a group of its own, and a fork without exec is not possible from managed code.
/// </summary>
internal static class ProcessGroups
{
    private static readonly Lazy<string?> Found = new(Find);

    /// <summary>The path of setsid, or null when the system has none (processes then share Visor's group).</summary>
    public static string? Setsid => Found.Value;

    private static string? Find()
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return new[] { "/usr/bin", "/bin" }.Concat(path.Split(':', StringSplitOptions.RemoveEmptyEntries))
            .Select(dir => Path.Combine(dir, "setsid"))
            .FirstOrDefault(File.Exists);
    }
}
