using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Loop.Jobs.Tests.Endpoints;

/// <summary>The mapped endpoints and bridges over real loopback sockets: web runs, adapter answers, authenticated resumes, hostile requests.</summary>
public sealed class EndpointTests : IAsyncLifetime
{
    private const string PriceToken = "price-incoming-token-0123456789";
    private const string OtherToken = "other-incoming-token-0123456789";
    private WebApplication _app = null!;
    private TestAdapter _adapter = null!;
    private HttpClient _http = null!;
    private FakeLogCollector _logs = null!;

    private IJobService Jobs => _app.Services.GetRequiredService<IJobService>();

    public async Task InitializeAsync()
    {
        _adapter = await TestAdapter.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddFakeLogging();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddLoopJobs(o => { o.HttpTimeout = TimeSpan.FromSeconds(1); o.RunLease = TimeSpan.FromSeconds(5); o.MaxRequestBodyBytes = 1024; o.ResponseBaseUrl = new Uri("http://127.0.0.1:1/v2/"); })
            .UseInMemoryStore()
            .AddBridge(new BridgeSpec { Name = "price", Url = _adapter.Url, IncomingToken = PriceToken, OutgoingToken = "price-outgoing" })
            .AddBridge(new BridgeSpec { Name = "other", Url = _adapter.Url, IncomingToken = OtherToken });
        _app = builder.Build();
        _app.MapLoopJobs("/v2");
        await _app.StartAsync();
        _logs = _app.Services.GetFakeLogCollector();
        _http = new HttpClient { BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _adapter.DisposeAsync();
    }

    [Fact]
    public async Task A_web_run_is_started_by_a_post_with_its_input()
    {
        var job = await Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("multiply", new JsonObject { ["times"] = 3 })] });

        using var response = await _http.PostAsync($"/v2/jobs/{job.Id}/runs", Json("14"));

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var id = Guid.Parse((string)run["id"]!);
        await Eventually.WaitAsync(async () => (await Jobs.GetRunAsync(id))?.Status == RunStatus.Completed, "the web run completed");
        (await Jobs.GetRunAsync(id))!.Data!.GetValue<decimal>().Should().Be(42);
    }

    [Fact]
    public async Task Web_run_requests_for_unknown_or_unfit_jobs_and_bad_bodies_are_refused()
    {
        var cron = await Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron("0 0 0 1 1 *")], Tasks = [new TaskSpec("noop")] });
        var web = await Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] });

        (await Status(_http.PostAsync("/v2/jobs/nope/runs", Json("{}")))).Should().Be(HttpStatusCode.NotFound);
        (await Status(_http.PostAsync($"/v2/jobs/{cron.Id}/runs", Json("{}")))).Should().Be(HttpStatusCode.Conflict);
        (await Status(_http.PostAsync($"/v2/jobs/{web.Id}/runs", Json("{not json")))).Should().Be(HttpStatusCode.BadRequest);
        (await Status(_http.PostAsync($"/v2/jobs/{web.Id}/runs", Json(new string('1', 2000))))).Should().Be(HttpStatusCode.RequestEntityTooLarge);
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Repeat("1", 1000)) + "]")));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/jobs/{web.Id}/runs") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        (await Status(_http.SendAsync(request))).Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await Jobs.ListRunsAsync(web.Id)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_pending_bridge_run_is_resumed_only_by_its_bridge_token_and_goes_on_with_the_answer()
    {
        var job = await Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("price"), new TaskSpec("multiply", new JsonObject { ["times"] = 2 })] });
        var run = await Jobs.TriggerRunAsync(job.Id, JsonNode.Parse("""{"pair":"ETH/USD"}"""));
        await Eventually.WaitAsync(async () => (await Jobs.GetRunAsync(run.Id))?.Status == RunStatus.PendingBridge, "the run pending its bridge");
        var (authorization, body) = _adapter.Requests.Single();
        authorization.Should().Be("Bearer price-outgoing");
        ((string)body!["id"]!).Should().Be(run.Id.ToString());
        body["data"]!["pair"]!.GetValue<string>().Should().Be("ETH/USD");
        ((string)body["responseURL"]!).Should().Be($"http://127.0.0.1:1/v2/runs/{run.Id}");
        var before = (await Jobs.GetRunAsync(run.Id))!;

        (await Status(Patch(run.Id.ToString(), """{"data":21}""", token: null))).Should().Be(HttpStatusCode.Unauthorized);
        (await Status(Patch(run.Id.ToString(), """{"data":21}""", token: OtherToken))).Should().Be(HttpStatusCode.Unauthorized);
        (await Status(Patch(run.Id.ToString(), """{"data":21}""", token: PriceToken + "x"))).Should().Be(HttpStatusCode.Unauthorized);
        (await Status(Patch(Guid.NewGuid().ToString(), """{"data":21}""", PriceToken))).Should().Be(HttpStatusCode.NotFound);
        (await Status(Patch("../../etc/passwd", """{"data":21}""", PriceToken))).Should().Be(HttpStatusCode.NotFound);
        (await Status(Patch(run.Id.ToString(), """{"nonsense":1}""", PriceToken))).Should().Be(HttpStatusCode.BadRequest);
        (await Status(Patch(run.Id.ToString(), new string(' ', 1500) + "{}", PriceToken))).Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await Jobs.GetRunAsync(run.Id))!.Version.Should().Be(before.Version, "a refused resume changes nothing");
        var refusals = _logs.GetSnapshot().Where(r => r.Message.Contains("Refused to resume")).ToList();
        refusals.Should().HaveCount(5);
        refusals.Should().OnlyContain(r => !r.Message.Contains(PriceToken) && !r.Message.Contains(OtherToken));

        (await Status(Patch(run.Id.ToString(), """{"id":"x","data":21}""", PriceToken))).Should().Be(HttpStatusCode.OK);

        await Eventually.WaitAsync(async () => (await Jobs.GetRunAsync(run.Id))?.Status == RunStatus.Completed, "the resumed run completed");
        (await Jobs.GetRunAsync(run.Id))!.Data!.GetValue<decimal>().Should().Be(42);
        (await Status(Patch(run.Id.ToString(), """{"data":21}""", PriceToken))).Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Synchronous_adapter_answers_error_and_data_and_a_hanging_adapter_times_out()
    {
        var job = await Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("price")] });

        _adapter.Answer = """{"data":{"USD":3000}}""";
        var data = await RunToEndAsync(job.Id);
        data.Status.Should().Be(RunStatus.Completed);
        data.Data!["USD"]!.GetValue<int>().Should().Be(3000);

        _adapter.Answer = """{"error":"rate limited"}""";
        (await RunToEndAsync(job.Id)).Error.Should().Be("task 0 (price): bridge price: rate limited");

        _adapter.Answer = """[1,2]""";
        (await RunToEndAsync(job.Id)).Error.Should().Contain("none of");

        _adapter.Answer = null;
        (await RunToEndAsync(job.Id)).Error.Should().Contain("did not answer within the HTTP timeout");
    }

    [Fact]
    public async Task An_http_task_against_a_refusing_port_errors_with_the_reason()
    {
        var port = FreePort.Next();
        var job = await Jobs.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("httpget", new JsonObject { ["get"] = $"http://user:hunter2@127.0.0.1:{port}/price" })] });

        var run = await RunToEndAsync(job.Id);

        run.Status.Should().Be(RunStatus.Errored);
        run.Error.Should().Contain($"127.0.0.1:{port}").And.NotContain("hunter2");
    }

    private async Task<JobRun> RunToEndAsync(string jobId)
    {
        var run = await Jobs.TriggerRunAsync(jobId);
        JobRun? now = null;
        await Eventually.WaitAsync(async () => (now = await Jobs.GetRunAsync(run.Id))?.Status.IsFinished() == true, "the run finished");
        return now!;
    }

    private Task<HttpResponseMessage> Patch(string runId, string body, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/v2/runs/{runId}") { Content = Json(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return _http.SendAsync(request);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<HttpStatusCode> Status(Task<HttpResponseMessage> send)
    {
        using var response = await send;
        return response.StatusCode;
    }
}
