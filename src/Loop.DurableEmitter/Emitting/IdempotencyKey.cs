using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Loop.DurableEmitter;

/// <summary>Derives the default <c>idempotencykey</c> of an event.</summary>
public static class IdempotencyKey
{
    // Inputs up to this size are hashed from the stack; larger ones from a pooled buffer.
    private const int StackLimit = 2048;

    /// <summary>
    /// Lowercase hex SHA-256 over the length-prefixed source, type and body (each prefixed with its byte length as a
    /// big-endian uint32), so no two different (source, type, body) triples can produce the same input.
    /// </summary>
    public static string Compute(string source, string type, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(type);

        // One contiguous input and one-shot hashing: an incremental hash allocates and frees a native context per
        // call, which cost as much as hashing a 1 KiB body. The buffer is sized by the UTF-8 upper bound, so the
        // names are encoded once, not counted first.
        var capacity = 12 + Encoding.UTF8.GetMaxByteCount(source.Length) + Encoding.UTF8.GetMaxByteCount(type.Length) + body.Length;
        byte[]? rented = null;
        var buffer = capacity <= StackLimit ? stackalloc byte[capacity] : (rented = ArrayPool<byte>.Shared.Rent(capacity)).AsSpan(0, capacity);
        try
        {
            var rest = AppendPrefixed(buffer, source);
            rest = AppendPrefixed(rest, type);
            BinaryPrimitives.WriteUInt32BigEndian(rest, (uint)body.Length);
            body.CopyTo(rest[4..]);
            rest = rest[(4 + body.Length)..];
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..^rest.Length], digest);
            return Convert.ToHexStringLower(digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static Span<byte> AppendPrefixed(Span<byte> destination, string text)
    {
        var written = Encoding.UTF8.GetBytes(text, destination[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)written);
        return destination[(4 + written)..];
    }
}
