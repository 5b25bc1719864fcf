using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Loop.Visor;

/// <summary>Options of a Visor hosted in a .NET host (<c>AddVisor</c>), bound from a section such as <c>Loop:Visor</c>.</summary>
public sealed class VisorHostOptions
{
    /// <summary>The home folder; it must exist and hold a valid config.toml (create it with <c>loop-visor init</c> or <see cref="VisorHome.Init"/>).</summary>
    /// <value>Required.</value>
    [Required(ErrorMessage = "{0} is required: the Visor home folder (create one with loop-visor init)")]
    public string? Home { get; set; }

    /// <summary>Stop the host when Visor ends on its own (max restarts, unreachable status), with its exit code.</summary>
    /// <value>Default true.</value>
    public bool StopHostWhenVisorExits { get; set; } = true;

    /// <summary>Supervisor options not in config.toml.</summary>
    [ValidateObjectMembers]
    public VisorServiceOptions Service { get; } = new();

    /// <summary>The rules the attributes cannot say: the home and its config.toml.</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(VisorHostOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Home))
        {
            yield break;
        }

        var home = new VisorHome(options.Home);
        if (!File.Exists(home.ConfigPath))
        {
            yield return (nameof(Home), $"{home.ConfigPath} does not exist (create the home with loop-visor init)");
            yield break;
        }

        string? error = null;
        try
        {
            VisorConfigFile.Load(home.ConfigPath);
        }
        catch (VisorConfigException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            yield return (nameof(Home), $"holds an invalid config.toml: {error}");
        }
    }
}

/// <summary>The generated DataAnnotations validator of <see cref="VisorHostOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class VisorHostOptionsValidator : IValidateOptions<VisorHostOptions>;
