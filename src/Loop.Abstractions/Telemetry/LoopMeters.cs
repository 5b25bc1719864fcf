namespace Loop.Telemetry;

/// <summary>The meter of every Loop package, by name: each package has one, named as the package.</summary>
public static class LoopMeters
{
    /// <summary>Loop.DurableEmitter's meter (<c>loop.emitter.*</c>).</summary>
    public const string DurableEmitter = "Loop.DurableEmitter";

    /// <summary>Loop.Plugins' meter (<c>loop.plugins.*</c>).</summary>
    public const string Plugins = "Loop.Plugins";

    /// <summary>Loop.Visor's meter (<c>loop.visor.*</c>).</summary>
    public const string Visor = "Loop.Visor";

    /// <summary>Loop.Jobs' meter (<c>loop.jobs.*</c>).</summary>
    public const string Jobs = "Loop.Jobs";

    /// <summary>Loop.Jobs.Ethereum's meter (<c>loop.jobs.ethereum.*</c>).</summary>
    public const string JobsEthereum = "Loop.Jobs.Ethereum";

    /// <summary>Every Loop meter. Naming one whose package is not loaded costs nothing.</summary>
    public static IReadOnlyList<string> All { get; } = [DurableEmitter, Plugins, Visor, Jobs, JobsEthereum];
}
