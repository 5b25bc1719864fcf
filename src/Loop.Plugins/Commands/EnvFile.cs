namespace Loop.Plugins;

/// <summary>Reads <c>.env</c> files: <c>KEY=VALUE</c> lines, <c>#</c> comments, optional <c>export</c>, quoted values.</summary>
internal static class EnvFile
{
    /// <summary>The variables in <paramref name="path"/>, in order.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is not <c>KEY=VALUE</c>; the message names file and line.</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"env file {path} does not exist", path);
        }

        var vars = new List<KeyValuePair<string, string>>();
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var key = eq > 0 ? line[..eq].Trim() : string.Empty;
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(key[0]))
            {
                throw new FormatException($"{path}:{number}: expected KEY=VALUE");
            }

            var value = line[(eq + 1)..].Trim();
            if (value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0])
            {
                value = value[1..^1];
            }

            vars.Add(new(key, value));
        }

        return vars;
    }
}
