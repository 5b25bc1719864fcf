namespace Loop.Jobs.Tests;

/// <summary>An <see cref="IHttpClientFactory"/> for services built without dependency injection.</summary>
public sealed class Http(TimeSpan? timeout = null) : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new() { Timeout = timeout ?? TimeSpan.FromSeconds(10) };
}
