using System.Globalization;

namespace Loop.Visor.Cli;

/// <summary>The commands other than <c>run</c>: each takes parsed values and returns its exit code.</summary>
internal static class Commands
{
    public static int Init(string homePath, bool withDataNode)
    {
        var home = VisorHome.Init(homePath, withDataNode);
        Console.WriteLine($"created {home.Root}: edit {home.ConfigPath} and {Path.Combine(home.GenesisFolder, RunConfigFile.FileName)}, then run: loop-visor run --home {home.Root}");
        return 0;
    }

    public static int AddUpgrade(string homePath, string tag, string source, long height)
    {
        var home = new VisorHome(homePath);
        var folder = VersionInstaller.AddUpgrade(home, VisorConfigFile.Load(home.ConfigPath), tag, source, height);
        Console.WriteLine(height > 0 ? $"added {tag} in {folder}, for the upgrade at height {height}" : $"added {tag} in {folder}");
        return 0;
    }

    /// <summary>Downloads and installs a version ahead of its upgrade height, so the switch does not wait for the network.</summary>
    public static async Task<int> PrepareUpgradeAsync(string homePath, string tag, CancellationToken cancellationToken)
    {
        var home = new VisorHome(homePath);
        using var http = new HttpClient { Timeout = VisorServiceOptions.DefaultDownloadTimeout };
        var folder = await new ReleaseInstaller(http).InstallAsync(home, VisorConfigFile.Load(home.ConfigPath), tag, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"installed {tag} in {folder}");
        return 0;
    }

    public static int ClearRefused(string homePath, string tag)
    {
        var home = new VisorHome(homePath);
        if (VisorStateFile.Load(home).RefusalOf(tag) is null)
        {
            Console.Error.WriteLine($"loop-visor: {tag} is not refused in {home.StatePath}");
            return VisorExitCodes.ConfigError;
        }

        VisorStateFile.Update(home, s => s with { Refused = [.. s.Refused.Where(r => r.Tag != tag)] });
        Console.WriteLine($"cleared the refusal of {tag}: Visor tries it again when it is next reported");
        return 0;
    }

    public static int Status(string homePath)
    {
        var home = new VisorHome(homePath);
        var config = VisorConfigFile.Load(home.ConfigPath);
        var state = VisorStateFile.Load(home);
        Console.WriteLine($"home:         {home.Root}");

        var running = state.Running is { } r && IsAlive(r.VisorPid) ? r : null;
        Console.WriteLine($"visor:        {(running is null ? "not running" : $"running (pid {running.VisorPid})")}");

        string? currentName = null;
        if (File.Exists(Path.Combine(home.CurrentLink, RunConfigFile.FileName)))
        {
            currentName = RunConfigFile.Load(home.CurrentFolder()).Name;
            var height = state.UpgradeHeights.TryGetValue(currentName, out var h) ? $", upgraded to at height {h}" : string.Empty;
            Console.WriteLine($"current:      {currentName} ({home.CurrentFolder()}){height}");
        }
        else
        {
            Console.WriteLine("current:      (not linked yet: genesis at first run)");
        }

        foreach (var process in running?.Processes ?? [])
        {
            Console.WriteLine($"process:      {process.Name} pid {process.Pid}, up since {Time(process.Since)}");
        }

        Console.WriteLine($"previous:     {home.PreviousFolder() ?? "(none)"}");
        Console.WriteLine(state.LastUpgrade is { } u
            ? $"last upgrade: {u.From} -> {u.To} at height {u.Height}, {Time(u.At)} (reported by {u.Source})"
            : "last upgrade: (none)");
        Console.WriteLine(state.LastRollback is { } b
            ? $"rollback:     {b.Failed} failed, {Time(b.At)}: {b.Reason}; back to {b.RestoredTo}"
            : "rollback:     (none)");
        foreach (var refusal in state.Refused)
        {
            Console.WriteLine($"refused:      {refusal.Tag} (height {refusal.Height}), {Time(refusal.At)}: {refusal.Reason} (clear with: loop-visor clear-refused --home {home.Root} {refusal.Tag})");
        }

        var info = Path.Combine(home.Root, config.UpgradeInfoPath);
        var pending = File.Exists(info) ? File.ReadAllText(info).Trim() : null;
        Console.WriteLine($"upgrade:      {(pending is { Length: > 0 } ? $"{pending} ({info})" : "(none pending)")}");
        foreach (var folder in Directory.EnumerateDirectories(home.Root).Order(StringComparer.Ordinal))
        {
            var heightFile = Path.Combine(folder, VersionInstaller.HeightFile);
            var name = Path.GetFileName(folder);
            if (File.Exists(heightFile) && name != currentName)
            {
                Console.WriteLine($"prepared:     {name} for the upgrade at height {File.ReadAllText(heightFile).Trim()}");
            }
        }

        return 0;
    }

    public static int Version()
    {
        Console.WriteLine($"loop-visor {typeof(VisorService).Assembly.GetName().Version} (.NET {Environment.Version})");
        return 0;
    }

    private static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 1)..].TrimStart().StartsWith('Z');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
