using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins;

/// <summary>
/// Writes logs as hclog JSON lines (<c>@level</c>, <c>@message</c>, <c>@module</c>, <c>@timestamp</c>) to a plugin's
/// stderr, which a go-plugin host reads back with levels intact.
/// </summary>
public sealed class HclogLoggerProvider(TextWriter output, TimeProvider? timeProvider = null) : ILoggerProvider
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new HclogLogger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <summary>hclog's level names.</summary>
    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        _ => "error",
    };

    /// <summary>Reads an hclog level name as hclog's LevelFromString does (trimmed, any case; "warning" too, "off" is None).</summary>
    internal static bool TryParseLevel(string? name, out LogLevel level)
    {
        level = name?.Trim().ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "info" => LogLevel.Information,
            "warn" or "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "off" => LogLevel.None,
            _ => (LogLevel)(-1),
        };
        return level >= LogLevel.Trace;
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("@level", LevelName(level));
            json.WriteString("@message", message);
            json.WriteString("@module", category);
            // hclog's timestamp layout: exactly six fractional digits.
            json.WriteString("@timestamp", _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            if (exception is not null)
            {
                json.WriteString("error", exception.ToString());
            }

            json.WriteEndObject();
        }

        var line = Encoding.UTF8.GetString(buffer.ToArray());
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private sealed class HclogLogger(HclogLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
