namespace Loop.Plugins;

/// <summary>
/// A floor under RPC timeouts: gRPC calls need realistic deadlines, so a configured timeout of zero or below the floor
/// is raised to it. The floor comes from <c>CL_MIN_OCR2_MAX_DURATION_QUERY</c> (Go duration), default 100 ms.
/// </summary>
public sealed class RpcTimeoutFloor(TimeSpan floor)
{
    /// <summary>The variable naming the floor.</summary>
    public const string Variable = "CL_MIN_OCR2_MAX_DURATION_QUERY";

    /// <summary>The default floor.</summary>
    public static readonly TimeSpan DefaultFloor = TimeSpan.FromMilliseconds(100);

    /// <summary>The floor.</summary>
    public TimeSpan Floor { get; } = floor > TimeSpan.Zero ? floor : throw new ArgumentOutOfRangeException(nameof(floor), floor, "The floor must be positive.");

    /// <summary>Reads the floor from the environment (the process's own when null).</summary>
    /// <exception cref="LoopEnvironmentException">The variable is not a positive Go duration.</exception>
    public static RpcTimeoutFloor FromEnvironment(IReadOnlyDictionary<string, string>? environment = null)
    {
        var text = environment is null ? System.Environment.GetEnvironmentVariable(Variable) : environment.GetValueOrDefault(Variable);
        if (string.IsNullOrEmpty(text))
        {
            return new RpcTimeoutFloor(DefaultFloor);
        }

        try
        {
            var floor = GoDuration.Parse(text);
            return floor > TimeSpan.Zero ? new RpcTimeoutFloor(floor) : throw new LoopEnvironmentException(Variable, $"\"{text}\" must be positive");
        }
        catch (FormatException ex)
        {
            throw new LoopEnvironmentException(Variable, ex.Message);
        }
    }

    /// <summary>The timeout to use: <paramref name="configured"/>, or the floor when it is lower (zero included).</summary>
    public TimeSpan Apply(TimeSpan configured) => configured < Floor ? Floor : configured;
}
