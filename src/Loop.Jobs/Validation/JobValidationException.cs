namespace Loop.Jobs;

/// <summary>A job spec or bridge was refused; <see cref="Errors"/> lists every problem, each naming its field.</summary>
public sealed class JobValidationException : Exception
{
    /// <summary>Creates the exception for <paramref name="subject"/> (<c>job 5f1c…</c>, <c>bridge price</c>).</summary>
    public JobValidationException(string subject, IReadOnlyList<JobValidationError> errors)
        : base($"{subject} is invalid: {string.Join("; ", errors)}")
    {
        Subject = subject;
        Errors = errors;
    }

    /// <summary>What was refused.</summary>
    public string Subject { get; }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<JobValidationError> Errors { get; }
}
