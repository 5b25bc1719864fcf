using System.Globalization;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Loop.Visor.Configuration;

/// <summary>
/// A TOML file read into dotted keys with their line numbers, so that every error can name file, line and key.
/// Readers take the keys they know; <see cref="EnsureAllRead"/> then rejects the rest as unknown.
/// </summary>
internal sealed class TomlDocument
{
    // Key parts are joined with a separator no key can contain, so a quoted key such as "v1.2.3" stays one part.
    private const char Separator = '\u001f';
    private readonly Dictionary<string, (ValueSyntax Value, int Line)> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private TomlDocument(string file) => File = file;

    public string File { get; }

    public static TomlDocument Parse(string file, string text)
    {
        var syntax = SyntaxParser.Parse(text, file, true);
        foreach (var diagnostic in syntax.Diagnostics)
        {
            if (diagnostic.Kind == DiagnosticMessageKind.Error)
            {
                throw new VisorConfigException(file, diagnostic.Span.Start.Line + 1, null, diagnostic.Message);
            }
        }

        var document = new TomlDocument(file);
        foreach (var kv in syntax.KeyValues)
        {
            document.Add(string.Empty, kv);
        }

        foreach (var table in syntax.Tables)
        {
            if (table is not TableSyntax)
            {
                throw new VisorConfigException(file, table.Span.Start.Line + 1, KeyText(table.Name), "arrays of tables are not used in this file");
            }

            var prefix = KeyParts(table.Name);
            foreach (var kv in table.Items)
            {
                document.Add(prefix, kv);
            }
        }

        return document;
    }

    public static TomlDocument Load(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new VisorConfigException(path, 0, null, "the file does not exist");
        }

        return Parse(path, System.IO.File.ReadAllText(path));
    }

    /// <summary>Every key under <paramref name="table"/> (one level), in file order.</summary>
    /// <summary>The names of the keys directly under <paramref name="table"/>, in file order.</summary>
    public IEnumerable<string> NamesUnder(string table)
    {
        var prefix = Internal(table) + Separator;
        return _values.Where(v => v.Key.StartsWith(prefix, StringComparison.Ordinal) && !v.Key[prefix.Length..].Contains(Separator, StringComparison.Ordinal))
            .OrderBy(v => v.Value.Line)
            .Select(v => v.Key[prefix.Length..]);
    }

    /// <summary>The line of a key given as parts (a part may contain dots), or 0.</summary>
    public int LineOf(params string[] parts) => _values.TryGetValue(string.Join(Separator, parts), out var v) ? v.Line : 0;

    /// <summary>Top-level tables that hold a process (every top-level table in a run config).</summary>
    public IEnumerable<string> ProcessTables() =>
        _values.Where(v => v.Key.Contains(Separator, StringComparison.Ordinal))
            .OrderBy(v => v.Value.Line)
            .Select(v => v.Key[..v.Key.IndexOf(Separator, StringComparison.Ordinal)])
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>The first line of any key under <paramref name="table"/>.</summary>
    public int FirstLineUnder(string table) =>
        _values.Where(v => v.Key.StartsWith(Internal(table) + Separator, StringComparison.Ordinal)).Select(v => v.Value.Line).DefaultIfEmpty(0).Min();

    public string? String(string key, string? fallback = null) =>
        Read(key) is { } v ? v.Value is StringValueSyntax s ? s.Value : throw Bad(key, v.Line, "expected a string") : fallback;

    public long Integer(string key, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        if (Read(key) is not { } v)
        {
            return fallback;
        }

        var value = v.Value is IntegerValueSyntax i ? i.Value : throw Bad(key, v.Line, "expected an integer");
        return value < min || value > max
            ? throw Bad(key, v.Line, string.Create(CultureInfo.InvariantCulture, $"{value} is out of range ({min} to {max})"))
            : value;
    }

    public double Float(string key, double fallback, double min, double max)
    {
        if (Read(key) is not { } v)
        {
            return fallback;
        }

        var value = v.Value switch
        {
            FloatValueSyntax f => f.Value,
            IntegerValueSyntax i => i.Value,
            _ => throw Bad(key, v.Line, "expected a number"),
        };
        return value < min || value > max
            ? throw Bad(key, v.Line, string.Create(CultureInfo.InvariantCulture, $"{value} is out of range ({min} to {max})"))
            : value;
    }

    public bool Boolean(string key, bool fallback) =>
        Read(key) is { } v ? v.Value is BooleanValueSyntax b ? b.Value : throw Bad(key, v.Line, "expected true or false") : fallback;

    public IReadOnlyList<string>? StringArray(string key)
    {
        if (Read(key) is not { } v)
        {
            return null;
        }

        if (v.Value is not ArraySyntax array)
        {
            throw Bad(key, v.Line, "expected an array of strings");
        }

        return array.Items.Select(item => item.Value is StringValueSyntax s ? s.Value! : throw Bad(key, v.Line, "expected an array of strings")).ToArray();
    }

    /// <summary>A table of string values (a section, or an inline table value).</summary>
    public IReadOnlyDictionary<string, string> StringTable(string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Read(key) is { } inline)
        {
            if (inline.Value is not InlineTableSyntax table)
            {
                throw Bad(key, inline.Line, "expected a table of strings");
            }

            foreach (var item in table.Items)
            {
                var kv = item.KeyValue!;
                result[KeyText(kv.Key)] = kv.Value is StringValueSyntax s ? s.Value! : throw Bad($"{key}.{KeyText(kv.Key)}", inline.Line, "expected a string");
            }

            return result;
        }

        foreach (var name in NamesUnder(key).ToList())
        {
            var entry = Read(Internal(key) + Separator + name, isInternal: true)!.Value;
            result[name] = entry.Value is StringValueSyntax s ? s.Value! : throw Bad($"{key}.{name}", entry.Line, "expected a string");
        }

        return result;
    }

    /// <summary>Rejects every key no reader asked for: a typo must not silently become a default.</summary>
    public void EnsureAllRead()
    {
        foreach (var (key, (_, line)) in _values.OrderBy(v => v.Value.Line))
        {
            if (!_read.Contains(key))
            {
                throw new VisorConfigException(File, line, key.Replace(Separator, '.'), "unknown key");
            }
        }
    }

    public VisorConfigException Bad(string key, int line, string problem) => new(File, line, key, problem);

    private static string Internal(string dotted) => dotted.Replace('.', Separator);

    private (ValueSyntax Value, int Line)? Read(string key, bool isInternal = false)
    {
        var id = isInternal ? key : Internal(key);
        _read.Add(id);
        return _values.TryGetValue(id, out var v) ? v : null;
    }

    private void Add(string prefix, KeyValueSyntax kv)
    {
        var key = prefix.Length == 0 ? KeyParts(kv.Key) : prefix + Separator + KeyParts(kv.Key);
        var line = kv.Span.Start.Line + 1;
        if (!_values.TryAdd(key, (kv.Value!, line)))
        {
            throw new VisorConfigException(File, line, key.Replace(Separator, '.'), "the key is defined twice");
        }
    }

    private static string KeyText(KeySyntax? key) => KeyParts(key).Replace(Separator, '.');

    private static string KeyParts(KeySyntax? key)
    {
        if (key is null)
        {
            return string.Empty;
        }

        var parts = new List<string> { Part(key.Key) };
        if (key.DotKeys is { } dots)
        {
            foreach (var dot in dots)
            {
                parts.Add(Part(dot.Key));
            }
        }

        return string.Join(Separator, parts);

        static string Part(BareKeyOrStringValueSyntax? part) => part switch
        {
            BareKeySyntax bare => bare.Key?.Text ?? string.Empty,
            StringValueSyntax quoted => quoted.Value ?? string.Empty,
            _ => string.Empty,
        };
    }
}
