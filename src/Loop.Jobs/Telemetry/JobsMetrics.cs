using System.Diagnostics.Metrics;
using Loop.Telemetry;

namespace Loop.Jobs.Telemetry;

/// <summary>The job service's instruments on meter <c>Loop.Jobs</c>, all named <c>loop.jobs.*</c>.</summary>
internal sealed class JobsMetrics : IDisposable
{
    private static readonly double[] SecondsBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
    private readonly PackageMeter _package;
    private readonly Counter<long> _started;
    private readonly Counter<long> _finished;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _lateness;
    private IReadOnlyDictionary<RunStatus, long> _byStatus = new Dictionary<RunStatus, long>();

    public JobsMetrics(IMeterFactory? factory)
    {
        _package = new PackageMeter(LoopMeters.Jobs, factory);
        var meter = _package.Meter;
        _started = meter.CreateCounter<long>("loop.jobs.runs.started", "{run}", "Runs created, by job and initiator type.");
        _finished = meter.CreateCounter<long>("loop.jobs.runs.finished", "{run}", "Runs finished, by job and outcome (completed, errored, cancelled).");
        _duration = meter.CreateHistogram("loop.jobs.run.duration", "s", "From a run's creation to its end, by job and outcome.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _lateness = meter.CreateHistogram("loop.jobs.scheduler.lateness", "s", "How late a cron or run-at fire started its run, by initiator type.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        meter.CreateObservableGauge("loop.jobs.runs", ObserveRuns, "{run}", "Runs in the store by status (in_progress, pending_bridge, pending_sleep, …), as of the last poll.");
    }

    public void Started(string jobId, string initiator) => _started.Add(1, new("job", jobId), new("initiator", initiator));

    public void Finished(JobRun run, TimeSpan duration)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", run.Status.ToName());
        _finished.Add(1, new("job", run.JobId), outcome);
        _duration.Record(duration.TotalSeconds, new("job", run.JobId), outcome);
    }

    public void Lateness(string initiator, TimeSpan lateness) => _lateness.Record(Math.Max(0, lateness.TotalSeconds), new KeyValuePair<string, object?>("initiator", initiator));

    public void RunsByStatus(IReadOnlyDictionary<RunStatus, long> counts) => Volatile.Write(ref _byStatus, counts);

    public void Dispose() => _package.Dispose();

    private IEnumerable<Measurement<long>> ObserveRuns()
    {
        var counts = Volatile.Read(ref _byStatus);
        foreach (var status in Enum.GetValues<RunStatus>())
        {
            yield return new Measurement<long>(counts.GetValueOrDefault(status), new KeyValuePair<string, object?>("status", status.ToName()));
        }
    }
}
