namespace Loop.Visor;

/// <summary>
/// Visor's home folder: <c>config.toml</c>, a folder per version (<c>genesis</c>, <c>v1.2.3</c>, …) each with its
/// <c>run-config.toml</c>, and the <c>current</c> link to the version that runs. <c>previous</c> links to the version
/// before the last upgrade, for rollback.
/// </summary>
public sealed class VisorHome
{
    /// <summary>The genesis version folder's name.</summary>
    public const string Genesis = "genesis";

    /// <summary>Opens the home folder at <paramref name="root"/>.</summary>
    public VisorHome(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>The home folder.</summary>
    public string Root { get; }

    /// <summary><c>config.toml</c>.</summary>
    public string ConfigPath => Path.Combine(Root, VisorConfigFile.FileName);

    /// <summary>The <c>current</c> link.</summary>
    public string CurrentLink => Path.Combine(Root, "current");

    /// <summary>The <c>previous</c> link.</summary>
    public string PreviousLink => Path.Combine(Root, "previous");

    /// <summary>The genesis folder.</summary>
    public string GenesisFolder => Path.Combine(Root, Genesis);

    /// <summary><c>visor-state.json</c>: heights, the last upgrade and rollback, refusals, the running Visor.</summary>
    public string StatePath => Path.Combine(Root, VisorState.FileName);

    /// <summary>
    /// Creates a home folder: <c>config.toml</c> with every default written out, <c>genesis/run-config.toml</c> and an
    /// example version folder. Refuses a folder that already exists.
    /// </summary>
    /// <exception cref="VisorHomeException">The folder exists.</exception>
    public static VisorHome Init(string root, bool withDataNode = false)
    {
        var home = new VisorHome(root);
        if (Directory.Exists(home.Root) || File.Exists(home.Root))
        {
            throw new VisorHomeException($"{home.Root} already exists; init only creates a new home folder.");
        }

        Directory.CreateDirectory(home.Root);
        var config = new VisorConfig { UpgradeFolders = new Dictionary<string, string>(StringComparer.Ordinal) { ["vX.X.X"] = "vX.X.X" } };
        File.WriteAllText(home.ConfigPath, VisorConfigFile.Render(config));
        RunConfigFile.Write(home.GenesisFolder, Example(Genesis, withDataNode));
        RunConfigFile.Write(Path.Combine(home.Root, "vX.X.X"), Example("vX.X.X", withDataNode));
        return home;
    }

    /// <summary>
    /// Links <c>current</c> to genesis when it is missing on a new home; returns the folder <c>current</c> points to.
    /// A home that was upgraded before (it has a <c>previous</c> link, or its state names a current version) is not
    /// silently put back on genesis: that would run the genesis binary on an upgraded chain.
    /// </summary>
    /// <param name="relinkGenesis">Link genesis even on a home that was upgraded before (the operator says so).</param>
    /// <exception cref="VisorHomeException"><c>current</c> is a plain folder, or missing on an upgraded home, or there is no genesis.</exception>
    public string EnsureCurrent(bool relinkGenesis = false)
    {
        if (IsLink(CurrentLink))
        {
            return CurrentFolder();
        }

        if (Directory.Exists(CurrentLink) || File.Exists(CurrentLink))
        {
            throw new VisorHomeException(
                $"{CurrentLink} is a plain {(Directory.Exists(CurrentLink) ? "folder" : "file")}, not a link: Visor keeps current as a link to a version folder. " +
                $"Move it aside (mv {CurrentLink} {CurrentLink}.bak), or make it a link (ln -s <version folder> {CurrentLink}), and run again.");
        }

        if (!relinkGenesis)
        {
            var last = VisorStateFile.Load(this).CurrentVersion;
            var previous = PreviousFolder();
            if (last is not null && last != Genesis || previous is not null)
            {
                var which = last is not null ? $"the last current version was {last}" : $"previous points to {previous}";
                throw new VisorHomeException(
                    $"{CurrentLink} is missing, but this home was upgraded before ({which}); refusing to start genesis on an upgraded chain. " +
                    $"Restore the link (ln -s <version folder> {CurrentLink}), or run with --relink-genesis to start genesis anyway.");
            }
        }

        if (!Directory.Exists(GenesisFolder))
        {
            throw new VisorHomeException($"{Root} has neither a current link nor a genesis folder; run init or create genesis/run-config.toml.");
        }

        SwitchCurrent(GenesisFolder);
        return CurrentFolder();
    }

    /// <summary>The folder <c>current</c> points to.</summary>
    public string CurrentFolder() => ResolveLink(CurrentLink) ?? throw new VisorHomeException($"{CurrentLink} is not a link.");

    /// <summary>The folder <c>previous</c> points to, if any.</summary>
    public string? PreviousFolder() => IsLink(PreviousLink) ? ResolveLink(PreviousLink) : null;

    /// <summary>
    /// The folder of <paramref name="tag"/>: its <c>[upgradeFolders]</c> mapping, else <c>home/&lt;tag&gt;</c>. The tag is
    /// validated first, so a name from the network never reaches the file system unchecked.
    /// </summary>
    /// <exception cref="InvalidReleaseTagException">The tag is not a plain version name.</exception>
    public string VersionFolder(string tag, VisorConfig config)
    {
        ReleaseTag.Require(tag);
        ArgumentNullException.ThrowIfNull(config);
        var folder = config.UpgradeFolders.TryGetValue(tag, out var mapped) ? mapped : tag;
        return Path.GetFullPath(Path.IsPathRooted(folder) ? folder : Path.Combine(Root, folder));
    }

    /// <summary>
    /// Points <c>current</c> at <paramref name="folder"/> atomically: a new link is made beside it and renamed over the
    /// old one, so <c>current</c> always exists. The old target becomes <c>previous</c>.
    /// </summary>
    /// <param name="folder">A version folder: a folder directly in the home (not one of the home's own names), or one
    /// that <paramref name="config"/> maps a tag to.</param>
    /// <param name="config">The config whose <c>[upgradeFolders]</c> may map versions outside the home.</param>
    /// <exception cref="VisorHomeException">The folder is not a version folder of this home, or has no run config.</exception>
    public void SwitchCurrent(string folder, VisorConfig? config = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var target = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        if (target == CurrentLink || target == PreviousLink || IsLink(target))
        {
            throw new VisorHomeException($"{target} is a link, not a version folder; refusing to point current at it.");
        }

        var inHome = Path.GetDirectoryName(target) == Root && ReleaseTag.Validate(Path.GetFileName(target)) is null || target == GenesisFolder;
        var mapped = config?.UpgradeFolders.Values.Any(f => Path.GetFullPath(Path.IsPathRooted(f) ? f : Path.Combine(Root, f)).TrimEnd(Path.DirectorySeparatorChar) == target) == true;
        if (!inHome && !mapped)
        {
            throw new VisorHomeException($"{target} is not a version folder of {Root} (a folder in the home, or one mapped in [upgradeFolders]); refusing to point current at it.");
        }

        if (!File.Exists(Path.Combine(target, RunConfigFile.FileName)))
        {
            throw new VisorHomeException($"{target} has no {RunConfigFile.FileName}; refusing to switch to it.");
        }

        var old = IsLink(CurrentLink) ? ResolveLink(CurrentLink) : null;
        ReplaceLink(CurrentLink, target);
        if (old is not null && old != target)
        {
            ReplaceLink(PreviousLink, old);
        }
    }

    /// <summary>Removes the <c>previous</c> link (after a rollback it would name the version that failed).</summary>
    internal void ForgetPrevious()
    {
        if (IsLink(PreviousLink))
        {
            File.Delete(PreviousLink);
        }
    }

    private static void ReplaceLink(string link, string target)
    {
        var temp = $"{link}.{Guid.NewGuid():N}.tmp";
        File.CreateSymbolicLink(temp, target);
        try
        {
            // rename(2) replaces the old link in one step: current never disappears.
            Loop.Visor.Running.Posix.Rename(temp, link);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    private static string? ResolveLink(string path) =>
        new FileInfo(path).LinkTarget is { } target ? Path.GetFullPath(target, Path.GetDirectoryName(path)!) : null;

    private static RunConfig Example(string name, bool withDataNode)
    {
        var processes = new List<ProcessSpec> { new("vega", "vega", ["node", "--home", "/path/to/vega/home"]) };
        if (withDataNode)
        {
            processes.Add(new ProcessSpec("data_node", "data-node", ["node", "--home", "/path/to/data-node/home"]));
        }

        return new RunConfig(name, processes, new UpgradeRpcEndpoint(Path.Combine(Path.GetTempPath(), "vega.sock"), "/rpc"));
    }
}

/// <summary>The home folder is not in a state Visor can work with; the message says what to do.</summary>
public sealed class VisorHomeException(string message) : Exception(message);
