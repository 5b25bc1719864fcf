using System.Security.Cryptography;

namespace Loop.DurableEmitter;

/// <summary>
/// Random (version 4) UUIDs for CloudEvent ids, cut from a block of cryptographically secure random bytes per thread.
/// <see cref="Guid.NewGuid"/> asks the kernel for 16 bytes each time; on a busy host that system call was a visible
/// share of an emit's CPU.
/// </summary>
internal static class EventIds
{
    private const int IdsPerBlock = 256;

    [ThreadStatic]
    private static byte[]? t_block;

    [ThreadStatic]
    private static int t_next;

    /// <summary>A new random UUID in its canonical lowercase form.</summary>
    public static string Next()
    {
        var block = t_block ??= new byte[IdsPerBlock * 16];
        if (t_next == 0)
        {
            RandomNumberGenerator.Fill(block);
        }

        var bytes = block.AsSpan(t_next * 16, 16);
        t_next = (t_next + 1) % IdsPerBlock;

        // RFC 9562: version 4 in the high nibble of octet 6, variant 10 in the top bits of octet 8. Guid's byte
        // constructor reads octets 6 and 7 as a little-endian short, so octet 6 of the text is bytes[7].
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
