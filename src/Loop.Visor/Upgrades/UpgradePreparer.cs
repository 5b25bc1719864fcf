using System.Globalization;
using System.Text.Json;
using Loop.Visor.Running;
using Microsoft.Extensions.Logging;

namespace Loop.Visor.Upgrades;

/// <summary>
/// Gets a reported upgrade ready while the running version still runs: validates the tag, finds or installs the
/// version folder, checks its run config, binaries, planned height and (when configured) the binary's version; and,
/// once the old version has stopped, runs the pre-upgrade hook. Every way this can fail is an <see cref="UpgradeRefusal"/>.
/// </summary>
internal sealed partial class UpgradePreparer(VisorHome home, HttpClient downloads, ILogger logger)
{
    /// <summary>The version folder, ready to switch to, and the height the version starts with.</summary>
    public async Task<(string Folder, long Height)> PrepareAsync(UpgradeRequest request, VisorConfig config, CancellationToken cancellationToken)
    {
        try
        {
            var folder = home.VersionFolder(request.Tag, config);
            if (!File.Exists(Path.Combine(folder, RunConfigFile.FileName)))
            {
                if (!config.AutoInstall.Enabled)
                {
                    throw new InstallException($"version {request.Tag} has no {RunConfigFile.FileName} in {folder} (add it with add-upgrade, or enable autoInstall)");
                }

                VisorLog.Installing(logger, request.Tag);
                await new ReleaseInstaller(downloads).InstallAsync(home, config, request.Tag, cancellationToken).ConfigureAwait(false);
            }

            var height = PlannedHeight(folder, request);
            var runConfig = RunConfigFile.Load(folder);
            foreach (var process in runConfig.Processes)
            {
                BinariesRunner.Check(process);
            }

            if (config.CheckBinaryVersion)
            {
                await CheckVersionAsync(runConfig.Processes[0], request.Tag, cancellationToken).ConfigureAwait(false);
            }

            return (folder, height);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (InstallException ex)
        {
            throw new UpgradeRefusal(ex.Message, ex.IsTransient, ex);
        }
        catch (Exception ex) when (ex is InvalidReleaseTagException or VisorConfigException or VisorBinaryException or VisorHomeException)
        {
            throw new UpgradeRefusal(ex.Message, transient: false, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UpgradeRefusal($"preparing {request.Tag} failed: {ex.Message}", transient: true, ex);
        }
    }

    /// <summary>Runs the pre-upgrade hook with tag and height; a failure refuses the upgrade.</summary>
    public async Task RunPreUpgradeHookAsync(UpgradeRequest request, long height, VisorConfig config, CancellationToken cancellationToken)
    {
        if (config.PreUpgradeHook.Length == 0)
        {
            return;
        }

        int code;
        try
        {
            (code, _) = await ProgramCall.RunAsync(
                config.PreUpgradeHook, [request.Tag, height.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException)
        {
            throw new UpgradeRefusal($"the pre-upgrade hook {config.PreUpgradeHook} failed: {ex.Message}", transient: false, ex);
        }

        if (code != 0)
        {
            throw new UpgradeRefusal($"the pre-upgrade hook {config.PreUpgradeHook} exited {code}", transient: false);
        }
    }

    /// <summary>
    /// The height recorded by <c>add-upgrade --height</c>: the version was added for that upgrade, so a report at
    /// another height is refused, and a report without a height takes it.
    /// </summary>
    private static long PlannedHeight(string folder, UpgradeRequest request)
    {
        var file = Path.Combine(folder, VersionInstaller.HeightFile);
        if (!File.Exists(file))
        {
            return request.Height;
        }

        if (!long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var planned) || planned <= 0)
        {
            throw new InstallException($"{file} does not hold a height");
        }

        return request.Height == 0 || request.Height == planned
            ? planned
            : throw new InstallException($"version {request.Tag} was added for the upgrade at height {planned} ({file}), but the upgrade was reported at height {request.Height}");
    }

    private static async Task CheckVersionAsync(ProcessSpec binary, string tag, CancellationToken cancellationToken)
    {
        int code;
        string output;
        try
        {
            (code, output) = await ProgramCall.RunAsync(binary.Path, ["version", "--output", "json"], TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException)
        {
            throw new InstallException($"{binary.Path} version --output json failed: {ex.Message}", ex);
        }

        string? version = null;
        try
        {
            using var json = JsonDocument.Parse(output);
            version = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        }
        catch (JsonException)
        {
        }

        if (code != 0 || version != tag)
        {
            throw new InstallException($"{binary.Path} version --output json reported \"{version}\" (exit {code}), not {tag}");
        }
    }

}

/// <summary>An upgrade cannot be made; <see cref="Transient"/> when it may work later (the release server was down).</summary>
internal sealed class UpgradeRefusal(string reason, bool transient, Exception? inner = null) : Exception(reason, inner)
{
    public bool Transient { get; } = transient;
}
