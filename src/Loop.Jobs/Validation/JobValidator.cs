using System.Buffers;

namespace Loop.Jobs.Validation;

/// <summary>
/// Checks a job before it is stored (Chainlink's <c>ValidateJob</c> and <c>ValidateInitiator</c>): every problem is
/// collected and reported at once, each named by its path in the spec's JSON shape.
/// </summary>
internal sealed class JobValidator(TypeRegistry<IJobTask> tasks, TypeRegistry<IJobInitiator> initiators)
{
    private static readonly SearchValues<char> IdCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    public List<JobValidationError> Validate(JobSpec job, DateTimeOffset now, Func<string, bool> isBridge)
    {
        var errors = new List<JobValidationError>();
        if (string.IsNullOrEmpty(job.Id) || job.Id.Length > JobSpec.MaxIdLength || job.Id.AsSpan().ContainsAnyExcept(IdCharacters))
        {
            errors.Add(new JobValidationError("id", $"must be 1 to {JobSpec.MaxIdLength} letters, digits, '-' or '_'"));
        }

        if (job.Initiators.Count == 0)
        {
            errors.Add(new JobValidationError("initiators", "at least one initiator is required"));
        }

        if (job.Tasks.Count == 0)
        {
            errors.Add(new JobValidationError("tasks", "at least one task is required"));
        }

        for (var i = 0; i < job.Initiators.Count; i++)
        {
            var initiator = job.Initiators[i];
            var path = $"initiators[{i}]";
            if (initiators.Find(initiator.Type) is not { } type)
            {
                errors.Add(new JobValidationError($"{path}.type", $"unknown initiator type '{initiator.Type}' (known: {string.Join(", ", initiators.Names)})"));
                continue;
            }

            errors.AddRange(type.Validate(initiator, job, now).Select(e => e with { Path = e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : $"{path}.params.{e.Path}" }));
        }

        for (var i = 0; i < job.Tasks.Count; i++)
        {
            var task = job.Tasks[i];
            var path = $"tasks[{i}]";
            if (task.Confirmations is < 0)
            {
                errors.Add(new JobValidationError($"{path}.confirmations", $"must not be negative (was {task.Confirmations})"));
            }

            if (tasks.Find(task.Type) is { } type)
            {
                errors.AddRange(type.Validate(task).Select(e => e with { Path = $"{path}.params.{e.Path}" }));
            }
            else if (!isBridge(task.Type))
            {
                errors.Add(new JobValidationError($"{path}.type", $"unknown task type '{task.Type}': neither a task type (known: {string.Join(", ", tasks.Names)}) nor a bridge"));
            }
        }

        if (job.StartAt is { } start && job.EndAt is { } end && end <= start)
        {
            errors.Add(new JobValidationError("endAt", $"must be after startAt ({JobSpec.Time(start)}; was {JobSpec.Time(end)})"));
        }

        if (job.EndAt is { } endAt && endAt <= now)
        {
            errors.Add(new JobValidationError("endAt", $"is in the past ({JobSpec.Time(endAt)})"));
        }

        if (job.MinConfirmations < 0)
        {
            errors.Add(new JobValidationError("minConfirmations", $"must not be negative (was {job.MinConfirmations})"));
        }

        return errors;
    }
}
