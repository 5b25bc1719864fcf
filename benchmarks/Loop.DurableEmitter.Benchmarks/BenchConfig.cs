using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Loop.DurableEmitter.Benchmarks;

/// <summary>A short job (these benchmarks do real I/O: few, long invocations) with throughput columns.</summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithWarmupCount(6).WithIterationCount(6).WithInvocationCount(1).WithUnrollFactor(1).WithId("io"));
        AddColumn(StatisticColumn.OperationsPerSecond, StatisticColumn.P95);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
