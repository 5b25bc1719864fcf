using System.Text.Json;
using System.Text.Json.Nodes;
using Loop.Jobs;
using Loop.Jobs.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the job service's HTTP endpoints.</summary>
public static class LoopJobsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps, under <paramref name="prefix"/>:
    /// <list type="bullet">
    /// <item><c>POST {prefix}/jobs/{jobId}/runs</c>: a run of a job with a <c>web</c> initiator; the body (JSON, optional)
    /// is its input. Answers 201 with the run, 404, 409 (archived, no web initiator) or 400/413 for a bad body.</item>
    /// <item><c>PATCH {prefix}/runs/{runId}</c>: an external adapter resumes a run pending on its bridge with
    /// <c>{"data"}</c>, <c>{"error"}</c> or <c>{"pending": true}</c>, presenting the bridge's incoming token as
    /// <c>Authorization: Bearer</c>. A missing or wrong token (401), an unknown run (404) or a run not pending (409) is
    /// refused, logged, and changes nothing.</item>
    /// </list>
    /// Returns the web-run endpoint's builder, for the host's own authorization (<c>.RequireAuthorization()</c>); the
    /// resume endpoint authenticates each bridge itself.
    /// </summary>
    public static IEndpointConventionBuilder MapLoopJobs(this IEndpointRouteBuilder endpoints, string prefix = "/v2")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var group = endpoints.MapGroup(prefix);
        group.MapMethods("/runs/{runId}", [HttpMethods.Patch], context => Answer(context, ResumeAsync(context, (string)context.Request.RouteValues["runId"]!)));
        return group.MapPost("/jobs/{jobId}/runs", context => Answer(context, TriggerAsync(context, (string)context.Request.RouteValues["jobId"]!)));
    }

    // Request delegates rather than minimal-API handlers: no reflection over a delegate, so the package stays AOT-safe.
    private static async Task Answer(HttpContext context, Task<IResult> result)
    {
        await (await result.ConfigureAwait(false)).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static async Task<IResult> TriggerAsync(HttpContext context, string jobId)
    {
        var jobs = context.RequestServices.GetRequiredService<JobService>();
        var (body, problem) = await ReadBodyAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            var run = await jobs.TriggerRunAsync(jobId, body, context.RequestAborted).ConfigureAwait(false);
            return Json(RunJson(run), StatusCodes.Status201Created);
        }
        catch (JobNotFoundException ex)
        {
            return Error(StatusCodes.Status404NotFound, ex.Message);
        }
        catch (RunRefusedException ex)
        {
            return Error(StatusCodes.Status409Conflict, ex.Message);
        }
    }

    private static async Task<IResult> ResumeAsync(HttpContext context, string runId)
    {
        var jobs = context.RequestServices.GetRequiredService<JobService>();
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var (body, problem) = await ReadBodyAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (run, status, refusal) = await jobs.ResumeFromBridgeAsync(runId, token, body, context.RequestAborted).ConfigureAwait(false);
        return run is not null ? Json(RunJson(run), StatusCodes.Status200OK) : Error(status, refusal!);
    }

    // The body, bounded by LoopJobsOptions.MaxRequestBodyBytes before any of it is parsed.
    private static async Task<(JsonNode? Body, IResult? Problem)> ReadBodyAsync(HttpContext context)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<LoopJobsOptions>>().Value.MaxRequestBodyBytes;
        var body = await BoundedBody.ReadAsync(context.Request.Body, context.Request.ContentLength, limit, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {limit} bytes"));
        }

        if (body.Length == 0)
        {
            return (null, null);
        }

        try
        {
            return (JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }), null);
        }
        catch (JsonException)
        {
            return (null, Error(StatusCodes.Status400BadRequest, "the body is not valid JSON"));
        }
    }

    private static JsonObject RunJson(JobRun run) => new()
    {
        ["id"] = run.Id.ToString(),
        ["jobId"] = run.JobId,
        ["status"] = run.Status.ToName(),
        ["taskIndex"] = run.TaskIndex,
        ["createdAt"] = run.CreatedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };

    // Times read as written ("+00:00", not "\u002B00:00"); the body is JSON, never HTML.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static IResult Json(JsonObject body, int status) => Results.Content(body.ToJsonString(Relaxed), "application/json", null, status);

    private static IResult Error(int status, string message) => Json(new JsonObject { ["error"] = message }, status);
}
