using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.Visor;

/// <summary>How <see cref="BinariesRunner"/> stops processes.</summary>
public sealed class BinariesRunnerOptions
{
    /// <summary>The default of <see cref="StopTimeout"/>: 15 s.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Wait before sending SIGTERM.</summary>
    /// <value>Zero or more. Default zero.</value>
    [NotNegative]
    public TimeSpan StopDelay { get; set; }

    /// <summary>Wait after SIGTERM before SIGKILL.</summary>
    /// <value>Positive. Default <see cref="DefaultStopTimeout"/> (15 s).</value>
    [Positive]
    public TimeSpan StopTimeout { get; set; } = DefaultStopTimeout;

    /// <summary>Inherit Visor's environment (then add the run config's). Default true, as a service manager would.</summary>
    public bool InheritEnvironment { get; set; } = true;
}

/// <summary>The generated DataAnnotations validator of <see cref="BinariesRunnerOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class BinariesRunnerOptionsValidator : IValidateOptions<BinariesRunnerOptions>;
