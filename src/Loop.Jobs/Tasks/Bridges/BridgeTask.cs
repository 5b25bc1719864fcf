using System.Text.Json.Nodes;
using Loop.Jobs.Tasks.BuiltIn;

namespace Loop.Jobs.Tasks.Bridges;

/// <summary>
/// A task whose type is a bridge's name: POSTs <c>{"id": run, "data": input, "responseURL"}</c> to the adapter with its
/// outgoing token, and turns the answer into the task's result (data, error, or pending until the adapter resumes the run).
/// </summary>
internal sealed class BridgeTask(StoredBridge bridge, JobsHttp http, Uri? responseBaseUrl)
{
    public async ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["id"] = context.RunId.ToString(), ["data"] = context.Input?.DeepClone() };
        if (responseBaseUrl is not null)
        {
            request["responseURL"] = new Uri(responseBaseUrl, $"runs/{context.RunId}").ToString();
        }

        var (body, error) = await http.SendAsync(HttpMethod.Post, bridge.Url, request, bridge.OutgoingToken, $"bridge {bridge.Name}", cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return TaskResult.Errored(error);
        }

        return BridgeAnswer.Read(body) switch
        {
            null => TaskResult.Errored($"bridge {bridge.Name}: the answer is none of {{\"data\"}}, {{\"error\"}}, {{\"pending\": true}}"),
            { Pending: true } => TaskResult.PendingExternal(),
            { Error: { } adapterError } => TaskResult.Errored($"bridge {bridge.Name}: {adapterError}"),
            { } answer => TaskResult.Completed(answer.Data),
        };
    }
}
