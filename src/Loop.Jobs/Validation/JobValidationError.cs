namespace Loop.Jobs;

/// <summary>One problem with a job spec or bridge: where (<c>tasks[1].type</c>) and what.</summary>
/// <param name="Path">The field, as a path into the spec's JSON shape.</param>
/// <param name="Message">What is wrong with it.</param>
public sealed record JobValidationError(string Path, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}: {Message}";
}
