using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>
/// A job: what starts its runs (<see cref="Initiators"/>) and the ordered tasks each run executes, each task's output
/// being the next one's input. Build it in C# or read the JSON shape with <see cref="Parse"/>.
/// </summary>
public sealed class JobSpec
{
    /// <summary>The longest job id.</summary>
    public const int MaxIdLength = 64;

    /// <summary>The job's id: letters, digits, <c>-</c> and <c>_</c>; a new one when not given.</summary>
    public string Id { get; init; } = Guid.NewGuid().ToString("N");

    /// <summary>A name for people.</summary>
    public string? Name { get; init; }

    /// <summary>What starts runs: at least one.</summary>
    public IReadOnlyList<InitiatorSpec> Initiators { get; init; } = [];

    /// <summary>The tasks of every run, in order: at least one.</summary>
    public IReadOnlyList<TaskSpec> Tasks { get; init; } = [];

    /// <summary>No run starts before this time.</summary>
    public DateTimeOffset? StartAt { get; init; }

    /// <summary>No run starts after this time.</summary>
    public DateTimeOffset? EndAt { get; init; }

    /// <summary>Blocks after a run's creation height that its tasks wait for (0: none).</summary>
    public int MinConfirmations { get; init; }

    /// <summary>When the job was added (set by the job service).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the job was archived, if it was.</summary>
    public DateTimeOffset? ArchivedAt { get; init; }

    /// <summary>
    /// Reads a job spec in its JSON shape:
    /// <c>{"initiators":[{"type":"cron","params":{"schedule":"*/5 * * * * *"}}],"tasks":[{"type":"httpget","params":{"get":"https://…"}}],"startAt":null,"endAt":null,"minConfirmations":0}</c>.
    /// </summary>
    /// <exception cref="JobValidationException">The JSON is malformed or has fields of the wrong kind; every problem is named by its path.</exception>
    public static JobSpec Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new JobValidationException("job spec", [new JobValidationError($"line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1}", "not valid JSON")]);
        }

        return FromJson(node);
    }

    /// <summary>Reads a job spec from a parsed JSON value (see <see cref="Parse"/>).</summary>
    public static JobSpec FromJson(JsonNode? node) => JobSpecJson.Read(node);

    /// <summary>The spec in its JSON shape (the one <see cref="Parse"/> reads).</summary>
    public JsonObject ToJson() => JobSpecJson.Write(this);

    /// <inheritdoc />
    public override string ToString() => Name is null ? $"job {Id}" : $"job {Id} ({Name})";

    internal JobSpec With(DateTimeOffset? createdAt = null, DateTimeOffset? archivedAt = null) => new()
    {
        Id = Id,
        Name = Name,
        Initiators = Initiators,
        Tasks = Tasks,
        StartAt = StartAt,
        EndAt = EndAt,
        MinConfirmations = MinConfirmations,
        CreatedAt = createdAt ?? CreatedAt,
        ArchivedAt = archivedAt ?? ArchivedAt,
    };

    internal static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}
