using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins;

/// <summary>One line of a plugin's stderr, as a log entry.</summary>
/// <param name="Level">The level: from <c>@level</c>, a <c>[LEVEL]</c> prefix, or debug.</param>
/// <param name="Message">The message.</param>
/// <param name="Fields">Other JSON keys.</param>
public sealed record HclogEntry(LogLevel Level, string Message, IReadOnlyDictionary<string, string> Fields);

/// <summary>
/// Reads a plugin's stderr as go-plugin does: hclog JSON lines keep their level; plain lines take a <c>[TRACE]</c> …
/// <c>[ERROR]</c> prefix, else debug; after <c>panic: </c> or <c>fatal error: </c> every later line is an error.
/// One reader per plugin process.
/// </summary>
internal sealed class HclogReader
{
    private bool _panicking;

    /// <summary>Reads one line.</summary>
    public HclogEntry Read(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (TryJson(line) is { } entry)
        {
            return entry;
        }

        if (line.StartsWith("panic: ", StringComparison.Ordinal) || line.StartsWith("fatal error: ", StringComparison.Ordinal))
        {
            _panicking = true;
        }

        if (_panicking)
        {
            return new HclogEntry(LogLevel.Error, line, Empty);
        }

        foreach (var (prefix, level) in Prefixes)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return new HclogEntry(level, line[prefix.Length..].TrimStart(), Empty);
            }
        }

        return new HclogEntry(LogLevel.Debug, line, Empty);
    }

    private static readonly Dictionary<string, string> Empty = [];

    private static readonly (string Prefix, LogLevel Level)[] Prefixes =
    [
        ("[TRACE]", LogLevel.Trace), ("[DEBUG]", LogLevel.Debug), ("[INFO]", LogLevel.Information), ("[WARN]", LogLevel.Warning), ("[ERROR]", LogLevel.Error),
    ];

    private static HclogEntry? TryJson(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;

            // As go-plugin reads them: an object with a string @message is JSON; @timestamp may be missing, but one that
            // is there must be hclog's (six fractional digits), else the line is plain text.
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("@message", out var message) || message.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            if (root.TryGetProperty("@timestamp", out var timestamp)
                && (timestamp.ValueKind != JsonValueKind.String
                    || !DateTimeOffset.TryParseExact(timestamp.GetString(), ["yyyy-MM-dd'T'HH:mm:ss.ffffffK", "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)))
            {
                return null;
            }

            // hclog's LevelFromString: trimmed, any case; a missing, unknown or "off" level reads as debug.
            var level = root.TryGetProperty("@level", out var l) && l.ValueKind == JsonValueKind.String
                && HclogLoggerProvider.TryParseLevel(l.GetString(), out var parsed) && parsed != LogLevel.None
                ? parsed
                : LogLevel.Debug;
            var fields = root.EnumerateObject()
                .Where(p => !p.Name.StartsWith('@'))
                .GroupBy(p => p.Name, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last().Value is { ValueKind: JsonValueKind.String } v ? v.GetString()! : g.Last().Value.GetRawText(), StringComparer.Ordinal);
            return new HclogEntry(level, message.GetString()!, fields);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
