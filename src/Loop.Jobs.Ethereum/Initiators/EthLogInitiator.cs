using System.Text.Json.Nodes;
using Loop.Jobs.Ethereum.Telemetry;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Ethereum.Initiators;

/// <summary>
/// <c>ethlog</c>: each log of the contract <c>params.address</c> (matching <c>params.topics</c>, each null for any)
/// starts a run with the log as its input (<c>address</c>, <c>topics</c>, <c>data</c>, <c>blockNumber</c>,
/// <c>blockHash</c>, <c>transactionHash</c>, <c>logIndex</c>) and its block as the run's creation height.
/// </summary>
internal sealed class EthLogInitiator(ILogSource source, EthereumChainOptions options, EthereumMetrics metrics, ILoggerFactory loggers) : IJobInitiator
{
    public const string TypeName = "ethlog";

    private readonly ILogger _logger = loggers.CreateLogger<EthLogInitiator>();

    public string Type => TypeName;

    public IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now) =>
        LogInitiatorParams.Validate(initiator.Params, addressRequired: true, fixedTopics: 0);

    public ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken)
    {
        var subscription = new LogSubscription(job, initiatorIndex, LogInitiatorParams.Filter(job.Initiators[initiatorIndex].Params, []), static log => (ToInput(log), null), source, runs, options, metrics, _logger);
        subscription.Start();
        return ValueTask.FromResult<IAsyncDisposable?>(subscription);
    }

    public static JsonObject ToInput(ChainLog log) => new()
    {
        ["address"] = log.Address,
        ["topics"] = new JsonArray([.. log.Topics.Select(t => (JsonNode?)JsonValue.Create(t))]),
        ["data"] = log.Data,
        ["blockNumber"] = log.BlockNumber,
        ["blockHash"] = log.BlockHash,
        ["transactionHash"] = log.TransactionHash,
        ["logIndex"] = log.LogIndex,
    };
}
