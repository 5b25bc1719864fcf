using System.Collections;
using System.Text;

namespace Loop.Plugins;

/// <summary>
/// A plugin's log line as the host logs it: the plugin's name, its message and every other hclog key as structured
/// state (so a plugin's <c>error</c> detail reaches the host's log, as go-plugin's host shows it), and a text form that
/// appends the keys as <c>key=value</c>, as hclog prints them.
/// </summary>
internal sealed class PluginLogState(string plugin, string message, IReadOnlyDictionary<string, string> fields) : IReadOnlyList<KeyValuePair<string, object?>>
{
    // Indexed by position for every structured read of the state: an array, not ElementAt over the dictionary.
    private readonly KeyValuePair<string, string>[] _fields = [.. fields];

    public const string OriginalFormat = "plugin.{Plugin}: {Message}";

    public int Count => _fields.Length + 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Plugin", plugin),
        1 => new("Message", message),
        _ when index - 2 < _fields.Length => Field(index - 2),
        _ when index - 2 == _fields.Length => new("{OriginalFormat}", OriginalFormat),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString()
    {
        var text = new StringBuilder("plugin.").Append(plugin).Append(": ").Append(message);
        foreach (var (key, value) in _fields)
        {
            text.Append(' ').Append(key).Append('=');
            if (value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || c == '"'))
            {
                text.Append('"').Append(value.Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                text.Append(value);
            }
        }

        return text.ToString();
    }

    private KeyValuePair<string, object?> Field(int index)
    {
        var (key, value) = _fields[index];

        // A key that would shadow the plugin's name or message keeps its value under a prefixed name.
        return new(key is "Plugin" or "Message" or "{OriginalFormat}" ? "plugin_" + key : key, value);
    }
}
