using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Loop.Jobs.Http;

namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary>The HTTP calls of the HTTP tasks and bridges: one named client (its timeout from the options), bounded responses, failures as task errors.</summary>
internal sealed class JobsHttp(IHttpClientFactory factory)
{
    /// <summary>The name of the <see cref="HttpClient"/> the tasks use; configure it with <c>AddHttpClient(JobsHttp.ClientName)</c>.</summary>
    public const string ClientName = "Loop.Jobs";

    /// <summary>The largest response body read (1 MiB); a larger one is a task error.</summary>
    public const int MaxResponseBytes = 1 << 20;

    public async Task<(JsonNode? Body, string? Error)> SendAsync(HttpMethod method, Uri url, JsonNode? body, string? bearer, string what, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null || method == HttpMethod.Post)
        {
            request.Content = new StringContent(body?.ToJsonString() ?? "null", Encoding.UTF8, "application/json");
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        try
        {
            var client = factory.CreateClient(ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var bytes = await BoundedBody.ReadAsync(stream, response.Content.Headers.ContentLength, MaxResponseBytes, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                return (null, $"{what}: the response from {Safe(url)} is larger than {MaxResponseBytes} bytes");
            }

            return response.IsSuccessStatusCode
                ? (TaskParams.ParseBody(Encoding.UTF8.GetString(bytes)), null)
                : (null, $"{what}: {Safe(url)} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"{what}: {Safe(url)} did not answer within the HTTP timeout");
        }
        catch (HttpRequestException ex)
        {
            return (null, $"{what}: {Safe(url)} failed: {ex.Message}");
        }
    }

    // A URL's user info (a password) never reaches a log or a stored error.
    internal static string Safe(Uri url) => url.UserInfo.Length == 0 ? url.ToString() : new UriBuilder(url) { UserName = string.Empty, Password = string.Empty }.Uri.ToString();
}
