namespace Loop.Visor;

/// <summary>
/// Command-line argument helpers that match whole flags (<c>-f</c>, <c>--flag</c>, <c>--flag=value</c>), never
/// substrings: <c>--home</c> does not match <c>--homeDir</c>. Names may be given with or without dashes, of any length.
/// </summary>
internal static class Args
{
    /// <summary>Whether the flag is present, as <c>--name</c>, <c>-name</c> or <c>--name=value</c>.</summary>
    public static bool Exists(IReadOnlyList<string> args, string name) => IndexOf(args, name) >= 0;

    /// <summary>Adds <c>--name value</c> unless the flag is present. Returns whether it added.</summary>
    public static bool Set(List<string> args, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (Exists(args, name))
        {
            return false;
        }

        args.Add(Flag(name));
        args.Add(value);
        return true;
    }

    /// <summary>Sets the flag's value, replacing an existing one (in either form) rather than duplicating it.</summary>
    public static void ForceSet(List<string> args, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(args);
        var index = IndexOf(args, name);
        if (index < 0)
        {
            args.Add(Flag(name));
            args.Add(value);
        }
        else if (args[index].Contains('=', StringComparison.Ordinal))
        {
            args[index] = $"{Flag(name)}={value}";
        }
        else if (index + 1 < args.Count && !args[index + 1].StartsWith('-'))
        {
            args[index + 1] = value;
        }
        else
        {
            args.Insert(index + 1, value);
        }
    }

    /// <summary>The flag and its value (<c>["--home", "/x"]</c>, also from <c>--home=/x</c>), or null when absent.</summary>
    public static string[]? GetFlagWithArg(IReadOnlyList<string> args, string name)
    {
        var index = IndexOf(args, name);
        if (index < 0)
        {
            return null;
        }

        var arg = args[index];
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        if (eq >= 0)
        {
            return [arg[..eq], arg[(eq + 1)..]];
        }

        return index + 1 < args.Count ? [arg, args[index + 1]] : [arg];
    }

    private static string Bare(string name) => name.TrimStart('-');

    private static string Flag(string name) => "--" + Bare(name);

    private static int IndexOf(IReadOnlyList<string> args, string name)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var bare = Bare(name);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
            {
                continue;
            }

            var candidate = arg.TrimStart('-');
            var eq = candidate.IndexOf('=', StringComparison.Ordinal);
            if ((eq >= 0 ? candidate[..eq] : candidate) == bare)
            {
                return i;
            }
        }

        return -1;
    }
}
