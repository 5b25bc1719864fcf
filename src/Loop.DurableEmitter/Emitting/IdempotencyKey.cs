using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Loop.DurableEmitter;

/// <summary>Derives the default <c>idempotencykey</c> of an event.</summary>
public static class IdempotencyKey
{
    /// <summary>
    /// Lowercase hex SHA-256 over the length-prefixed source, type and body (each prefixed with its byte length as a
    /// big-endian uint32), so no two different (source, type, body) triples can produce the same input.
    /// </summary>
    public static string Compute(string source, string type, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(type);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendPrefixed(hash, Encoding.UTF8.GetBytes(source));
        AppendPrefixed(hash, Encoding.UTF8.GetBytes(type));
        AppendPrefixed(hash, body);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }

    private static void AppendPrefixed(IncrementalHash hash, ReadOnlySpan<byte> data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
        hash.AppendData(length);
        hash.AppendData(data);
    }
}
