using System.Text;
using Nethereum.Util;

namespace Loop.Jobs.Ethereum;

/// <summary>
/// The run request a <c>runlog</c> job answers: a contract emits
/// <c>event RunRequest(bytes32 indexed jobId, address requester, bytes data)</c> with the job's id in the indexed topic
/// (<see cref="JobTopic"/>) and the run's input as UTF-8 JSON in <c>data</c>.
/// </summary>
public static class RunRequest
{
    /// <summary>The event's signature.</summary>
    public const string Signature = "RunRequest(bytes32,address,bytes)";

    /// <summary>The event's topic: the Keccak-256 hash of <see cref="Signature"/>, 0x-prefixed.</summary>
    public static string EventTopic { get; } = "0x" + Sha3Keccack.Current.CalculateHash(Signature);

    /// <summary>The longest job id a run request can address: its UTF-8 bytes fill the 32-byte topic.</summary>
    public const int MaxJobIdBytes = 32;

    /// <summary>The topic that addresses <paramref name="jobId"/>: its UTF-8 bytes, zero-padded on the right to 32 bytes (as Solidity's <c>bytes32("…")</c>).</summary>
    /// <exception cref="ArgumentException">The id is longer than <see cref="MaxJobIdBytes"/> bytes.</exception>
    public static string JobTopic(string jobId)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        var bytes = Encoding.UTF8.GetBytes(jobId);
        if (bytes.Length > MaxJobIdBytes)
        {
            throw new ArgumentException($"a run request addresses job ids of up to {MaxJobIdBytes} UTF-8 bytes ('{jobId}' has {bytes.Length})", nameof(jobId));
        }

        var topic = new byte[32];
        bytes.CopyTo(topic, 0);
        return "0x" + Convert.ToHexStringLower(topic);
    }
}
