namespace Loop.Visor;

/// <summary>Adds a version folder by hand (<c>add-upgrade</c>).</summary>
public static class VersionInstaller
{
    /// <summary>The file in a version folder recording the height the upgrade was planned for.</summary>
    public const string HeightFile = "upgrade-height";

    /// <summary>
    /// Creates the folder for <paramref name="tag"/> from <paramref name="source"/>: a folder is copied as it is (it
    /// needs a run-config.toml); a single binary is copied in and a run config is derived from the current version's,
    /// with every process pointed at the new binary. Refuses a tag that is not a plain version name and a folder that
    /// already exists.
    /// </summary>
    public static string AddUpgrade(VisorHome home, VisorConfig config, string tag, string source, long height = 0)
    {
        ArgumentNullException.ThrowIfNull(home);
        var folder = home.VersionFolder(tag, config);
        if (Directory.Exists(folder))
        {
            throw new VisorHomeException($"{folder} already exists; remove it first to replace version {tag}.");
        }

        if (Directory.Exists(source))
        {
            if (!File.Exists(Path.Combine(source, RunConfigFile.FileName)))
            {
                throw new VisorHomeException($"{source} has no {RunConfigFile.FileName}.");
            }

            CopyFolder(source, folder);
        }
        else if (File.Exists(source))
        {
            Directory.CreateDirectory(folder);
            var binary = Path.Combine(folder, Path.GetFileName(source));
            File.Copy(source, binary);
            WriteDerivedRunConfig(home, folder, tag, Path.GetFileName(source));
        }
        else
        {
            throw new VisorHomeException($"{source} does not exist.");
        }

        if (height > 0)
        {
            File.WriteAllText(Path.Combine(folder, HeightFile), height.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return folder;
    }

    /// <summary>
    /// Writes <paramref name="folder"/>'s run config from the running version's (or genesis's), named
    /// <paramref name="tag"/> and with every process pointed at <paramref name="binary"/> (relative to the folder), and
    /// makes the binary executable, as Vega Visor's auto install does.
    /// </summary>
    public static void WriteDerivedRunConfig(VisorHome home, string folder, string tag, string binary)
    {
        ArgumentNullException.ThrowIfNull(home);
        var template = RunConfigFile.Load(File.Exists(Path.Combine(home.CurrentLink, RunConfigFile.FileName)) ? home.CurrentFolder() : home.GenesisFolder);
        var path = Path.Combine(folder, binary);
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.UserRead);
        RunConfigFile.Write(folder, template with
        {
            Name = tag,
            Processes = template.Processes.Select(p => p with { Path = binary }).ToArray(),
        });
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }
}
