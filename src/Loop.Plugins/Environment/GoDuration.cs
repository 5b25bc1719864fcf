using System.Globalization;
using System.Text;

namespace Loop.Plugins;

/// <summary>Durations in Go's syntax (<c>time.Duration.String</c> and <c>time.ParseDuration</c>): <c>1h0m0s</c>, <c>1m30.5s</c>, <c>100ms</c>, <c>0s</c>.</summary>
internal static class GoDuration
{
    /// <summary>Formats as Go does.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var negative = value < TimeSpan.Zero;
        var ticks = Math.Abs(value.Ticks);
        var b = new StringBuilder(negative ? "-" : string.Empty);
        if (ticks < TimeSpan.TicksPerSecond)
        {
            // Below a second Go picks the largest unit that keeps the integer part non-zero.
            var nanos = ticks * 100;
            var (unit, size) = nanos >= 1_000_000 ? ("ms", 1_000_000d) : nanos >= 1_000 ? ("µs", 1_000d) : ("ns", 1d);
            return b.Append((nanos / size).ToString("0.#########", CultureInfo.InvariantCulture)).Append(unit).ToString();
        }

        var hours = ticks / TimeSpan.TicksPerHour;
        var minutes = ticks / TimeSpan.TicksPerMinute % 60;
        var seconds = (ticks % TimeSpan.TicksPerMinute) / (double)TimeSpan.TicksPerSecond;
        if (hours > 0)
        {
            b.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || minutes > 0)
        {
            b.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        return b.Append(seconds.ToString("0.#######", CultureInfo.InvariantCulture)).Append('s').ToString();
    }

    /// <summary>Parses Go's syntax: an optional sign, then one or more decimal numbers each with a unit (ns, us, µs, ms, s, m, h).</summary>
    /// <exception cref="FormatException">Not a Go duration.</exception>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        var sign = 1;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            sign = s[0] == '-' ? -1 : 1;
            s = s[1..];
        }

        if (s == "0")
        {
            return TimeSpan.Zero;
        }

        if (s.Length == 0)
        {
            throw new FormatException($"invalid duration \"{text}\"");
        }

        double nanos = 0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                throw new FormatException($"invalid duration \"{text}\"");
            }

            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }

            nanos += number * (s[unitStart..i] switch
            {
                "ns" => 1d,
                "us" or "µs" or "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                var unit => throw new FormatException($"unknown unit \"{unit}\" in duration \"{text}\""),
            });
        }

        return TimeSpan.FromTicks(sign * (long)Math.Round(nanos / 100));
    }
}
