using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Loop.DurableEmitter.Benchmarks;

/// <summary>
/// A job for real I/O (few, long invocations) with throughput columns. Twenty warm-ups, because tiered compilation
/// with PGO keeps recompiling the emit path, Npgsql and the channels for seconds under this load: six warm-ups of
/// 4,096 events measured the emitter while it was still half-compiled (iteration rates kept rising for about 3 s).
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithWarmupCount(20).WithIterationCount(6).WithInvocationCount(1).WithUnrollFactor(1).WithId("io"));
        AddColumn(StatisticColumn.OperationsPerSecond, StatisticColumn.P95);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
