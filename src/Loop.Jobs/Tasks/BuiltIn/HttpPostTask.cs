namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary><c>httppost</c> <c>{"post": "https://…"}</c> (or <c>"url"</c>): POSTs its input as JSON; the output is the response body, as JSON when it parses.</summary>
internal sealed class HttpPostTask(JobsHttp http) : IJobTask
{
    public string Type => "httppost";

    public IEnumerable<JobValidationError> Validate(TaskSpec task) => HttpTaskUrl.Validate(task, "post");

    public async ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var (body, error) = await http.SendAsync(HttpMethod.Post, HttpTaskUrl.Of(context.Task, "post")!, context.Input, null, Type, cancellationToken).ConfigureAwait(false);
        return error is null ? TaskResult.Completed(body) : TaskResult.Errored(error);
    }
}
