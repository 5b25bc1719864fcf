using System.Diagnostics.Metrics;
using Loop.Telemetry;

namespace Loop.Jobs.Ethereum.Telemetry;

/// <summary>Loop.Jobs.Ethereum's instruments on meter <c>Loop.Jobs.Ethereum</c>, all named <c>loop.jobs.ethereum.*</c>.</summary>
internal sealed class EthereumMetrics : IDisposable
{
    private readonly PackageMeter _package;
    private readonly Counter<long> _logs;
    private readonly Counter<long> _reconnects;

    public EthereumMetrics(IMeterFactory? factory)
    {
        _package = new PackageMeter(LoopMeters.JobsEthereum, factory);
        _logs = _package.Meter.CreateCounter<long>("loop.jobs.ethereum.logs", "{log}", "Logs seen by log initiators, by job and outcome (started, duplicate, refused, removed, cancelled).");
        _reconnects = _package.Meter.CreateCounter<long>("loop.jobs.ethereum.reconnects", "{attempt}", "Failed connections or lost subscriptions of log initiators, by job.");
    }

    public void Log(string jobId, string outcome) => _logs.Add(1, new("job", jobId), new("outcome", outcome));

    public void Reconnect(string jobId) => _reconnects.Add(1, new KeyValuePair<string, object?>("job", jobId));

    public void Dispose() => _package.Dispose();
}
