using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>One step of a job: a task type (a built-in, a registered <see cref="IJobTask"/> or a bridge name) and its parameters.</summary>
public sealed class TaskSpec
{
    /// <summary>Creates a task of <paramref name="type"/> with <paramref name="parameters"/> (copied).</summary>
    public TaskSpec(string type, JsonObject? parameters = null, int? confirmations = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        Type = type;
        Params = parameters is null ? [] : (JsonObject)parameters.DeepClone();
        Confirmations = confirmations;
    }

    /// <summary>The task type, matched case-insensitively.</summary>
    public string Type { get; }

    /// <summary>The task's parameters (a copy owned by this spec).</summary>
    public JsonObject Params { get; }

    /// <summary>Confirmations (blocks after the run's creation height) this task waits for before it runs; null: the job's.</summary>
    public int? Confirmations { get; }
}
