using Loop.Testing;

namespace Loop.Visor.Tests;

/// <summary>A Visor home in a temp folder with shell-script stand-ins for the node binaries.</summary>
public sealed class TempHome : IDisposable
{
    private readonly MarkedFolder _scratch = new("loop-visor");

    public TempHome(bool init = true)
    {
        Parent = _scratch.Path;
        Root = Path.Combine(Parent, "home");
        Home = init ? VisorHome.Init(Root) : new VisorHome(Root);
    }

    public string Parent { get; }

    public string Root { get; }

    public VisorHome Home { get; }

    /// <summary>Environment that marks a process as this test's (see <see cref="ProcessLeaks"/>); versions derived from a run config keep it.</summary>
    public IReadOnlyDictionary<string, string> Mark => new Dictionary<string, string> { ["LOOP_TEST_FOLDER"] = Parent };

    /// <summary>
    /// Writes an executable script and returns its path. The script exports its folder as LOOP_TEST_FOLDER, so whatever
    /// it runs (exec'd or started) carries the temp folder in its environment and <see cref="ProcessLeaks"/> finds it.
    /// </summary>
    public static string Script(string folder, string name, string body)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, $"#!/bin/sh\nexport LOOP_TEST_FOLDER='{folder}'\n" + body + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    /// <summary>Makes a version folder whose one process ("vega") runs <paramref name="body"/>.</summary>
    public string Version(string name, string body, string? folderName = null)
    {
        var folder = Path.Combine(Root, folderName ?? name);
        Script(folder, "node.sh", body);
        RunConfigFile.Write(folder, new RunConfig(name, [new ProcessSpec("vega", "node.sh", ["--height", VisorService.UpgradeHeightPlaceholder], Mark)]));
        return folder;
    }

    public void WriteConfig(string extra = "") =>
        File.WriteAllText(Home.ConfigPath, "maxNumberOfRestarts = 3\nrestartsDelaySeconds = 5\nstopSignalTimeoutSeconds = 5\n" + extra);

    /// <summary>Fails the test when a process it started (a script in this temp folder, or anything those started) still runs.</summary>
    public void Dispose() => _scratch.Dispose();
}
