using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Loop.Plugins.Protocol;

namespace Loop.Plugins.Sdk;

/// <summary>
/// After the handshake a plugin's stdout belongs to the host's <c>GRPCStdio</c> stream, as in go-plugin: console output
/// is queued here (bounded; the oldest lines give way when nobody drains) and streamed to the host.
/// </summary>
internal sealed class StdioForwarder
{
    private readonly Channel<StdioData> _lines = Channel.CreateBounded<StdioData>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    public ChannelReader<StdioData> Reader => _lines.Reader;

    public TextWriter Writer(StdioData.Types.Channel channel) => new LineWriter(this, channel);

    private void Write(StdioData.Types.Channel channel, string text) =>
        _lines.Writer.TryWrite(new StdioData { Channel = channel, Data = ByteString.CopyFromUtf8(text) });

    private sealed class LineWriter(StdioForwarder forwarder, StdioData.Types.Channel channel) : TextWriter
    {
        private readonly StringBuilder _line = new();
        private readonly Lock _gate = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_gate)
            {
                _line.Append(value);
                if (value == '\n')
                {
                    forwarder.Write(channel, _line.ToString());
                    _line.Clear();
                }
            }
        }

        public override void Flush()
        {
            lock (_gate)
            {
                if (_line.Length > 0)
                {
                    forwarder.Write(channel, _line.ToString());
                    _line.Clear();
                }
            }
        }
    }
}
