using System.Text.RegularExpressions;

namespace Loop.Visor;

/// <summary>
/// Release tags name folders, so a tag from the network must be a plain version name before it touches the file
/// system: letters, digits, '.', '_', '+', '-', starting with a letter or digit, no separators, no "..".
/// </summary>
public static partial class ReleaseTag
{
    /// <summary>Returns why <paramref name="tag"/> is not a plain version name, or null when it is.</summary>
    public static string? Validate(string? tag)
    {
        if (string.IsNullOrEmpty(tag))
        {
            return "the release tag is empty";
        }

        if (tag.Contains("..", StringComparison.Ordinal))
        {
            return $"the release tag \"{Printable(tag)}\" contains \"..\"";
        }

        if (Reserved.Contains(tag))
        {
            return $"the release tag \"{tag}\" is a name the home folder uses for itself";
        }

        return Plain().IsMatch(tag) ? null : $"the release tag \"{Printable(tag)}\" is not a plain version name (letters, digits, . _ + -, at most 128)";
    }

    /// <summary>
    /// Names the home folder uses for itself: a tag with one of these names would make <c>current</c> a link to itself,
    /// or a version folder of <c>data</c> or a file. Compared without case, so no spelling of them gets through.
    /// </summary>
    private static readonly HashSet<string> Reserved = new(
        ["current", "previous", VisorHome.Genesis, "data", VisorConfigFile.FileName, VisorState.FileName, RunConfigFile.FileName],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Throws <see cref="InvalidReleaseTagException"/> unless <paramref name="tag"/> is a plain version name.</summary>
    public static string Require(string? tag) => Validate(tag) is { } problem ? throw new InvalidReleaseTagException(tag ?? string.Empty, problem) : tag!;

    private static string Printable(string tag) => new(tag.Select(c => char.IsControl(c) ? '?' : c).Take(160).ToArray());

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}\z")]
    private static partial Regex Plain();
}

/// <summary>A release tag is not a plain version name; nothing was read or written.</summary>
public sealed class InvalidReleaseTagException(string tag, string problem) : ArgumentException(problem)
{
    /// <summary>The refused tag.</summary>
    public string Tag { get; } = tag;
}
