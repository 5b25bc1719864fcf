using System.Globalization;

namespace Loop.DurableEmitter.Benchmarks;

/// <summary>Environment knobs that narrow or tune a run; unset, the documented matrix and the library defaults run.</summary>
internal static class BenchKnobs
{
    /// <summary>Payload sizes (<c>BENCH_SIZES</c>, comma-separated). Default 256 and 1024 bytes.</summary>
    public static int[] Sizes => List("BENCH_SIZES") ?? [256, 1024];

    /// <summary>Concurrent callers (<c>BENCH_CALLERS</c>, comma-separated). Default 1, 16 and 64.</summary>
    public static int[] Callers => List("BENCH_CALLERS") ?? [1, 16, 64];

    /// <summary><c>InsertBatchWorkers</c> for the emitter (<c>BENCH_WORKERS</c>). Default: the library's.</summary>
    public static int InsertBatchWorkers =>
        Get("BENCH_WORKERS") is { } w ? Count("BENCH_WORKERS", w) : new DurableEmitterOptions().InsertBatchWorkers;

    /// <summary>Rounds of each case (<c>BENCH_ROUNDS</c>). Default 1.</summary>
    public static int Rounds => Get("BENCH_ROUNDS") is { } r ? Count("BENCH_ROUNDS", r) : 1;

    /// <summary>The names in a comma-separated knob (empty entries and spaces around names dropped), or null when unset.</summary>
    public static string[]? Names(string name) =>
        Get(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The value of a knob, or null when unset or empty.</summary>
    public static string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    /// <summary>A whole number of at least 1 given to <paramref name="knob"/> (a knob or argument name).</summary>
    /// <exception cref="ArgumentException">The text is not one, naming the knob and the text (the program prints it, exit code 2).</exception>
    public static int Count(string knob, string text) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n
            : throw new ArgumentException($"{knob}: \"{text}\" is not a whole number of at least 1");

    private static int[]? List(string name) =>
        Get(name) is { } text ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Count(name, v))] : null;
}
