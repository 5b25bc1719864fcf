using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loop.Jobs.Ethereum.Telemetry;
using Microsoft.Extensions.Logging;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.ABI.Model;

namespace Loop.Jobs.Ethereum.Initiators;

/// <summary>
/// <c>runlog</c>: a <see cref="RunRequest"/> log addressed to the job (its id in the indexed topic), from the contract
/// <c>params.address</c> when given, starts a run with the request's data (UTF-8 JSON) as its input and the log's block
/// as the run's creation height, so that with <c>minConfirmations</c> the run waits for them.
/// </summary>
internal sealed class RunLogInitiator(ILogSource source, EthereumChainOptions options, EthereumMetrics metrics, ILoggerFactory loggers) : IJobInitiator
{
    public const string TypeName = "runlog";

    private static readonly Parameter[] Fields = [new("address", "requester", 1), new("bytes", "data", 2)];
    private readonly ILogger _logger = loggers.CreateLogger<RunLogInitiator>();

    public string Type => TypeName;

    public IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now)
    {
        if (Encoding.UTF8.GetByteCount(job.Id) > RunRequest.MaxJobIdBytes)
        {
            yield return new JobValidationError("$.id", $"a runlog job's id addresses it in a 32-byte topic: it must be at most {RunRequest.MaxJobIdBytes} UTF-8 bytes (was {Encoding.UTF8.GetByteCount(job.Id)})");
        }

        foreach (var error in LogInitiatorParams.Validate(initiator.Params, addressRequired: false, fixedTopics: 2))
        {
            yield return error;
        }
    }

    public ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken)
    {
        var filter = LogInitiatorParams.Filter(job.Initiators[initiatorIndex].Params, [RunRequest.EventTopic, RunRequest.JobTopic(job.Id)]);
        var subscription = new LogSubscription(job, initiatorIndex, filter, ToInput, source, runs, options, metrics, _logger);
        subscription.Start();
        return ValueTask.FromResult<IAsyncDisposable?>(subscription);
    }

    /// <summary>The request's data as the run's input, or why the log is no run request Loop can read (a peer's bytes: never thrown).</summary>
    public static (JsonNode? Input, string? Refusal) ToInput(ChainLog log)
    {
        byte[] data;
        try
        {
            var fields = new ParameterDecoder().DecodeDefaultData(log.Data, Fields);
            data = fields.Count == 2 && fields[1].Result is byte[] bytes ? bytes : throw new FormatException("no data field");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return (null, $"its data is not an ABI-encoded (address requester, bytes data): {ex.Message}");
        }

        try
        {
            return (data.Length == 0 ? null : JsonNode.Parse(data), null);
        }
        catch (JsonException ex)
        {
            return (null, $"its request data is not UTF-8 JSON: {ex.Message}");
        }
    }
}
