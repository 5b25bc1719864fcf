using System.Text.RegularExpressions;

namespace Loop.Plugins;

/// <summary>
/// Plugin names end up in URL paths (<c>/plugins/{name}/metrics</c>), metric tags, log categories and environment
/// variable names, so they are checked when a plugin is registered: letters, digits, <c>-</c>, <c>_</c> and <c>.</c>,
/// starting with a letter or digit, no <c>..</c>, at most <see cref="MaxLength"/> characters.
/// </summary>
public static partial class PluginName
{
    /// <summary>The longest plugin name.</summary>
    public const int MaxLength = 64;

    /// <summary>Why <paramref name="name"/> is not a valid plugin name, or null when it is.</summary>
    public static string? Validate(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "the plugin name is empty";
        }

        var printable = new string(name.Select(c => char.IsControl(c) ? '?' : c).Take(80).ToArray());
        if (name.Length > MaxLength)
        {
            return $"the plugin name \"{printable}\" is longer than {MaxLength} characters";
        }

        if (name.Contains("..", StringComparison.Ordinal))
        {
            return $"the plugin name \"{printable}\" contains \"..\"";
        }

        return Plain().IsMatch(name) ? null : $"the plugin name \"{printable}\" may hold only letters, digits, '-', '_' and '.', starting with a letter or digit";
    }

    /// <summary>Returns <paramref name="name"/>, or throws <see cref="InvalidPluginNameException"/> saying what is wrong with it.</summary>
    public static string Require(string? name) => Validate(name) is { } problem ? throw new InvalidPluginNameException(name ?? string.Empty, problem) : name!;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\z")]
    private static partial Regex Plain();
}

/// <summary>A plugin name was refused at registration; the message says why.</summary>
public sealed class InvalidPluginNameException(string name, string problem) : ArgumentException(problem)
{
    /// <summary>The refused name.</summary>
    public string Name { get; } = name;
}
