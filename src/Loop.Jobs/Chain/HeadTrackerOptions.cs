using System.ComponentModel.DataAnnotations;
using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.Jobs;

/// <summary>How a <see cref="HeadTracker"/> keeps and reconnects.</summary>
public sealed class HeadTrackerOptions
{
    /// <summary>Default <see cref="Chain"/>.</summary>
    public const string DefaultChain = "default";

    /// <summary>Default <see cref="ReconnectDelay"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>Default <see cref="MaxReconnectDelay"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultMaxReconnectDelay = TimeSpan.FromSeconds(30);

    /// <summary>The name the latest head is saved under in the job store (one per chain). Default <see cref="DefaultChain"/>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.:-]{1,64}$", ErrorMessage = "{0} must be 1 to 64 letters, digits, '_', '.', ':' or '-'")]
    public string Chain { get; set; } = DefaultChain;

    /// <summary>The first wait before reconnecting after the source is lost; doubled after each failed attempt. Default <see cref="DefaultReconnectDelay"/>.</summary>
    [Positive]
    public TimeSpan ReconnectDelay { get; set; } = DefaultReconnectDelay;

    /// <summary>The longest wait between reconnect attempts. Default <see cref="DefaultMaxReconnectDelay"/>.</summary>
    [Positive]
    public TimeSpan MaxReconnectDelay { get; set; } = DefaultMaxReconnectDelay;

    internal static IEnumerable<(string Member, string Error)> Rules(HeadTrackerOptions options)
    {
        if (options.MaxReconnectDelay < options.ReconnectDelay)
        {
            yield return (nameof(MaxReconnectDelay), $"must not be shorter than ReconnectDelay ({options.ReconnectDelay}) (was {options.MaxReconnectDelay})");
        }
    }
}

[OptionsValidator]
internal sealed partial class HeadTrackerOptionsValidator : IValidateOptions<HeadTrackerOptions>;
