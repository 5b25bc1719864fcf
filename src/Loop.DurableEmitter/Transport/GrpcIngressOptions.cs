using System.ComponentModel.DataAnnotations;
using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>Where and how the gRPC transport reaches the ingress service.</summary>
public sealed class GrpcIngressOptions : BatchingOptions
{
    /// <summary>The default of <see cref="PublishTimeout"/>.</summary>
    public static readonly TimeSpan DefaultPublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="MaxRequestBytes"/>.</summary>
    public const int DefaultMaxRequestBytes = 10 * 1024 * 1024;

    /// <summary>The default of <see cref="RotatingAuthTtl"/>.</summary>
    public static readonly TimeSpan DefaultRotatingAuthTtl = TimeSpan.FromHours(1);

    /// <summary>
    /// The ingress address: <c>host:port</c> (scheme from <see cref="UseTls"/>), an <c>http://</c> or <c>https://</c>
    /// URI, or <c>unix:/path/to.sock</c>. Required.
    /// </summary>
    [Required(ErrorMessage = "{0} is required (host:port, http(s)://host:port or unix:/path)")]
    public string? Endpoint { get; set; }

    /// <summary>Use TLS for a <c>host:port</c> endpoint. Off by default: the ingress is usually on loopback or a sidecar.</summary>
    public bool UseTls { get; set; }

    /// <summary>The deadline of each publish call.</summary>
    /// <value>Default <see cref="DefaultPublishTimeout"/> (5 s).</value>
    [Positive]
    public TimeSpan PublishTimeout { get; set; } = DefaultPublishTimeout;

    /// <summary>The largest request sent; batches are split under it.</summary>
    /// <value>Default <see cref="DefaultMaxRequestBytes"/> (10 MiB).</value>
    [Between(64 * 1024, int.MaxValue)]
    public int MaxRequestBytes { get; set; } = DefaultMaxRequestBytes;

    /// <summary>Ask the ingress to accept a batch all or nothing. Off: each event succeeds or fails on its own.</summary>
    public bool TransactionEnabled { get; set; }

    /// <summary>Static headers sent on every call (API keys and the like). Never logged.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Basic authentication user; with <see cref="BasicAuthPassword"/> adds <c>authorization: Basic …</c>.</summary>
    public string? BasicAuthUser { get; set; }

    /// <summary>Basic authentication password. Never logged.</summary>
    public string? BasicAuthPassword { get; set; }

    /// <summary>The node's public key (hex) for rotating signed headers; off when null.</summary>
    public string? RotatingAuthPublicKeyHex { get; set; }

    /// <summary>How long a signed header is reused before it is signed again. At least 10 minutes.</summary>
    /// <value>Default <see cref="DefaultRotatingAuthTtl"/> (1 h).</value>
    public TimeSpan RotatingAuthTtl { get; set; } = DefaultRotatingAuthTtl;

    /// <summary>The rules across properties and of formats (the single-property ranges are attributes).</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(GrpcIngressOptions options)
    {
        foreach (var rule in BatchingOptions.Rules(options))
        {
            yield return rule;
        }

        if (!string.IsNullOrWhiteSpace(options.Endpoint) && IngressAddress.TryParse(options.Endpoint, options.UseTls, out _) is { } endpointError)
        {
            yield return (nameof(Endpoint), $"\"{options.Endpoint}\" is invalid: {endpointError}");
        }

        if ((options.BasicAuthUser is null) != (options.BasicAuthPassword is null))
        {
            yield return (nameof(BasicAuthUser), "and BasicAuthPassword must be set together");
        }

        if (options.RotatingAuthPublicKeyHex is { } key)
        {
            if (key.Length == 0 || key.Length % 2 != 0 || !key.All(Uri.IsHexDigit))
            {
                yield return (nameof(RotatingAuthPublicKeyHex), "must be an even-length hex string");
            }

            if (options.RotatingAuthTtl < TimeSpan.FromMinutes(10))
            {
                yield return (nameof(RotatingAuthTtl), $"must be at least 10 minutes (was {options.RotatingAuthTtl})");
            }
        }
    }
}

/// <summary>The generated DataAnnotations validator of <see cref="GrpcIngressOptions"/> (the batching options included).</summary>
[OptionsValidator]
internal sealed partial class GrpcIngressOptionsValidator : IValidateOptions<GrpcIngressOptions>;
