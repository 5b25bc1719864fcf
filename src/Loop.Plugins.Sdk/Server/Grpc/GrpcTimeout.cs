using System.Globalization;

namespace Loop.Plugins.Sdk.Grpc;

/// <summary>The <c>grpc-timeout</c> request header: a positive integer of at most 8 digits and a unit (H, M, S, m, u, n).</summary>
internal static class GrpcTimeout
{
    /// <summary>The timeout the header states; null when it is absent or malformed (then the call has no deadline, as grpc-dotnet treats it).</summary>
    public static TimeSpan? Parse(string? header)
    {
        if (string.IsNullOrEmpty(header) || header.Length is < 2 or > 9
            || !long.TryParse(header.AsSpan(0, header.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }

        return header[^1] switch
        {
            'H' => TimeSpan.FromHours(value),
            'M' => TimeSpan.FromMinutes(value),
            'S' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMilliseconds(value),
            'u' => TimeSpan.FromMicroseconds(value),
            'n' => TimeSpan.FromTicks(value / 100),
            _ => null,
        };
    }
}
