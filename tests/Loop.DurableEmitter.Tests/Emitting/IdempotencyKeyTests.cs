using System.Security.Cryptography;
using System.Text;

namespace Loop.DurableEmitter.Tests.Emitting;

public sealed class IdempotencyKeyTests
{
    [Fact]
    public void Is_the_sha256_of_the_big_endian_length_prefixed_source_type_and_body()
    {
        // Built by hand here, independently of the implementation.
        byte[] input =
        [
            0, 0, 0, 3, (byte)'s', (byte)'r', (byte)'c',
            0, 0, 0, 2, (byte)'t', (byte)'y',
            0, 0, 0, 4, 1, 2, 3, 4,
        ];
        var expected = Convert.ToHexString(SHA256.HashData(input)).ToLowerInvariant();

        IdempotencyKey.Compute("src", "ty", [1, 2, 3, 4]).Should().Be(expected);
    }

    [Fact]
    public void Differs_when_bytes_move_between_fields()
    {
        IdempotencyKey.Compute("ab", "c", []).Should().NotBe(IdempotencyKey.Compute("a", "bc", []));
        IdempotencyKey.Compute("a", "b", Encoding.UTF8.GetBytes("x")).Should().NotBe(IdempotencyKey.Compute("a", "bx", []));
    }

    [Fact]
    public void Hashes_large_bodies_and_multibyte_names_the_same_way()
    {
        // Past the stack buffer (a pooled one is used) and with UTF-8 names longer in bytes than in chars.
        var body = new byte[100_000];
        new Random(7).NextBytes(body);
        var source = Encoding.UTF8.GetBytes("sörce");
        var type = Encoding.UTF8.GetBytes("typ€");
        var input = new List<byte>();
        foreach (var part in new[] { source, type, body })
        {
            input.AddRange([(byte)(part.Length >> 24), (byte)(part.Length >> 16), (byte)(part.Length >> 8), (byte)part.Length]);
            input.AddRange(part);
        }

        IdempotencyKey.Compute("sörce", "typ€", body).Should().Be(Convert.ToHexString(SHA256.HashData([.. input])).ToLowerInvariant());
    }
}
