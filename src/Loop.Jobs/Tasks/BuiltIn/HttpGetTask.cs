namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary><c>httpget</c> <c>{"get": "https://…"}</c> (or <c>"url"</c>): the response body, as JSON when it parses.</summary>
internal sealed class HttpGetTask(JobsHttp http) : IJobTask
{
    public string Type => "httpget";

    public IEnumerable<JobValidationError> Validate(TaskSpec task) => HttpTaskUrl.Validate(task, "get");

    public async ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var (body, error) = await http.SendAsync(HttpMethod.Get, HttpTaskUrl.Of(context.Task, "get")!, null, null, Type, cancellationToken).ConfigureAwait(false);
        return error is null ? TaskResult.Completed(body) : TaskResult.Errored(error);
    }
}
