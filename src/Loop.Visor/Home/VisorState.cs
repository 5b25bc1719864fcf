using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loop.Visor;

/// <summary>
/// What Visor records in its home folder (<c>visor-state.json</c>) so that it survives a restart of Visor and can be
/// shown by <c>loop-visor status</c>: the height each version was upgraded at, the last upgrade, the last rollback,
/// the versions refused for good, and, while a Visor runs, its pid and its processes.
/// </summary>
public sealed record VisorState
{
    /// <summary>The file name in the home folder.</summary>
    public const string FileName = "visor-state.json";

    /// <summary>The version <c>current</c> pointed to when it was last switched (null before the first switch).</summary>
    public string? CurrentVersion { get; init; }

    /// <summary>Version name → the height it was upgraded at, so a restart of that version gets the same height.</summary>
    public IReadOnlyDictionary<string, long> UpgradeHeights { get; init; } = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>The last upgrade made, if any.</summary>
    public UpgradeRecord? LastUpgrade { get; init; }

    /// <summary>The last rollback, if any.</summary>
    public RollbackRecord? LastRollback { get; init; }

    /// <summary>Versions refused for good: not tried again until an operator clears them (<c>loop-visor clear-refused</c>).</summary>
    public IReadOnlyList<RefusalRecord> Refused { get; init; } = [];

    /// <summary>The running Visor, or null when none runs (or it was killed before it could say so).</summary>
    public RunningRecord? Running { get; init; }

    /// <summary>The refusal of <paramref name="tag"/>, if it is refused.</summary>
    public RefusalRecord? RefusalOf(string tag) => Refused.FirstOrDefault(r => string.Equals(r.Tag, tag, StringComparison.Ordinal));
}

/// <summary>An upgrade Visor made.</summary>
/// <param name="From">The version that ran before.</param>
/// <param name="To">The version switched to.</param>
/// <param name="Height">The upgrade height (0 when the source gave none).</param>
/// <param name="At">When.</param>
/// <param name="Source">The upgrade source that reported it.</param>
public sealed record UpgradeRecord(string From, string To, long Height, DateTimeOffset At, string Source);

/// <summary>A rollback: the version that failed, why, and the version restored.</summary>
/// <param name="Failed">The version that died at start.</param>
/// <param name="RestoredTo">The version <c>current</c> went back to.</param>
/// <param name="At">When.</param>
/// <param name="Reason">What happened.</param>
public sealed record RollbackRecord(string Failed, string RestoredTo, DateTimeOffset At, string Reason);

/// <summary>An upgrade refused for good.</summary>
/// <param name="Tag">The release tag.</param>
/// <param name="Height">The height it was reported at.</param>
/// <param name="At">When.</param>
/// <param name="Reason">Why.</param>
public sealed record RefusalRecord(string Tag, long Height, DateTimeOffset At, string Reason);

/// <summary>A running Visor and its processes.</summary>
/// <param name="VisorPid">Visor's pid.</param>
/// <param name="Version">The version running.</param>
/// <param name="Processes">Its processes.</param>
public sealed record RunningRecord(int VisorPid, string Version, IReadOnlyList<ProcessRecord> Processes);

/// <summary>One running process.</summary>
/// <param name="Name">Its name in the run config.</param>
/// <param name="Pid">Its pid (and process group).</param>
/// <param name="Since">When it started.</param>
public sealed record ProcessRecord(string Name, int Pid, DateTimeOffset Since);

/// <summary>Reads and writes <see cref="VisorState"/>; a write replaces the file atomically (temp file, then rename).</summary>
public static class VisorStateFile
{
    /// <summary>The state of <paramref name="home"/>; an empty state when it has none.</summary>
    /// <exception cref="VisorHomeException">The file exists but cannot be read as Visor state.</exception>
    public static VisorState Load(VisorHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        var path = home.StatePath;
        if (!File.Exists(path))
        {
            return new VisorState();
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), VisorStateJson.Default.VisorState) ?? new VisorState();
        }
        catch (JsonException ex)
        {
            throw new VisorHomeException($"{path} is not valid Visor state ({ex.Message}); move it aside to start with none.");
        }
    }

    /// <summary>Applies <paramref name="change"/> to the state of <paramref name="home"/> and writes it.</summary>
    public static VisorState Update(VisorHome home, Func<VisorState, VisorState> change)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(change);
        var next = change(Load(home));
        var temp = $"{home.StatePath}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(next, VisorStateJson.Default.VisorState));
        File.Move(temp, home.StatePath, overwrite: true);
        return next;
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(VisorState))]
internal sealed partial class VisorStateJson : JsonSerializerContext;
