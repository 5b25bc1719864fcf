using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Loop.Options;

/// <summary>
/// Validates one (named) options instance with its source-generated DataAnnotations validator and its rules across
/// properties, and reports every failure at once, each naming where the value came from: the configuration path
/// (<c>Loop:Plugins:sample:KeepAliveInterval</c>) when the options were bound from a section, else the options type
/// (<c>PluginServiceOptions[sample].KeepAliveInterval</c>).
/// </summary>
internal sealed partial class PathedOptionsValidator<TOptions>(
    string name, string? sectionPath, IValidateOptions<TOptions> generated, Func<TOptions, IEnumerable<(string Member, string Error)>>? rules = null)
    : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <summary>The options name validated.</summary>
    public string Name => name;

    /// <summary>The configuration section the options were bound from, if any.</summary>
    public string? SectionPath => sectionPath;

    public ValidateOptionsResult Validate(string? optionsName, TOptions options)
    {
        if ((optionsName ?? Microsoft.Extensions.Options.Options.DefaultName) != name)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        var result = generated.Validate(optionsName, options);
        if (result.Failed)
        {
            failures.AddRange(result.Failures!.Select(Rewrite));
        }

        foreach (var (member, error) in rules?.Invoke(options) ?? [])
        {
            failures.Add($"{Where(member)} {error}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Where <paramref name="member"/> (dotted for nested options: <c>Client.StartTimeout</c>) is set.</summary>
    public string Where(string member) => sectionPath is { Length: > 0 } path
        ? $"{path}:{member.Replace('.', ':')}"
        : name.Length == 0 ? $"{typeof(TOptions).Name}.{member}" : $"{typeof(TOptions).Name}[{name}].{member}";

    // The generated validator names a member by "<name or type>.<member>" (nested ones by the parent's name too) and may
    // put "Property X: " or a "validation failed for" preamble first; say it once, by where it is set.
    private string Rewrite(string failure)
    {
        var prefix = string.IsNullOrEmpty(name) ? typeof(TOptions).Name : name;
        var match = Regex.Match(failure, Regex.Escape(prefix) + @"\.(?<member>[A-Za-z0-9_.]+) (?<rest>.*)$");
        return match.Success ? $"{Where(match.Groups["member"].Value)} {match.Groups["rest"].Value}" : failure;
    }
}

/// <summary>Validation of options handed to a constructor rather than through dependency injection.</summary>
internal static class OptionsCheck
{
    /// <summary>Throws an <see cref="OptionsValidationException"/> listing every error of <paramref name="options"/>, each named by type (and <paramref name="name"/>).</summary>
    public static TOptions Require<TOptions>(TOptions options, string name, IValidateOptions<TOptions> generated, Func<TOptions, IEnumerable<(string Member, string Error)>>? rules = null)
        where TOptions : class
    {
        var result = new PathedOptionsValidator<TOptions>(name, null, generated, rules).Validate(name, options);
        return result.Failed ? throw new OptionsValidationException(name, typeof(TOptions), result.Failures) : options;
    }
}
