using Loop.Json;

namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary>The URL parameter of the HTTP tasks: named after the method (<c>get</c>, <c>post</c>) as Chainlink's specs do, or <c>url</c>.</summary>
internal static class HttpTaskUrl
{
    public static Uri? Of(TaskSpec task, string methodName) =>
        TaskParams.AbsoluteHttpUrl(TaskParams.String(task.Params, methodName) ?? TaskParams.String(task.Params, "url"));

    public static IEnumerable<JobValidationError> Validate(TaskSpec task, string methodName)
    {
        if (Of(task, methodName) is null)
        {
            var given = JsonParameters.Get(task.Params, methodName) ?? JsonParameters.Get(task.Params, "url");
            yield return new JobValidationError(methodName, $"must be an absolute http(s) URL (was {JsonParameters.Describe(given)})");
        }
    }
}
