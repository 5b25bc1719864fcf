using Loop.Plugins.Sdk;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Tests;

public sealed class ProtocolTests
{
    [Theory]
    [InlineData("1|1|unix|/tmp/plugin4254650088|grpc|", 1, "unix", "/tmp/plugin4254650088")]
    [InlineData("1|3|tcp|127.0.0.1:10001|grpc\n", 3, "tcp", "127.0.0.1:10001")]
    public void Handshake_lines_parse(string text, int version, string network, string address)
    {
        var line = HandshakeLine.Parse(text);
        line.Should().Be(new HandshakeLine(version, network, address, "grpc", null));
    }

    [Theory]
    [InlineData("hello world", "Unrecognized remote plugin message")]
    [InlineData("2|1|unix|/x|grpc|", "Incompatible core API version")]
    [InlineData("1|x|unix|/x|grpc|", "Error parsing protocol version")]
    [InlineData("1|1|pipe|/x|grpc|", "unknown address type")]
    [InlineData("1|1|unix|/x", "grpc only")]
    public void Bad_handshake_lines_are_named(string text, string message)
    {
        var parse = () => HandshakeLine.Parse(text);
        parse.Should().Throw<PluginHandshakeException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void Certificates_are_unpadded_base64_and_padding_is_refused()
    {
        var cert = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var line = new HandshakeLine(1, "unix", "/x", "grpc", cert).ToString();
        line.Should().NotEndWith("=");
        HandshakeLine.Parse(line).ServerCertificate.Should().Equal(cert);

        var padded = "1|1|unix|/x|grpc|" + Convert.ToBase64String(cert.Take(98).ToArray());
        padded.Should().EndWith("=");
        var parse = () => HandshakeLine.Parse(padded);
        parse.Should().Throw<PluginHandshakeException>().WithMessage("*illegal base64*");
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3 }, "2,3,4", 3)]
    [InlineData(new[] { 1 }, "1", 1)]
    [InlineData(new[] { 2, 5 }, "1,3", 2)]
    [InlineData(new[] { 4 }, null, 4)]
    [InlineData(new[] { 3, 1, 2 }, " 1, 2 ,x,-3,+3", 2)]
    [InlineData(new[] { 5, 2 }, "", 2)]
    public void The_plugin_picks_the_highest_common_version_or_its_lowest(int[] plugin, string? host, int expected) =>
        LoopPluginServer.Negotiate(plugin, host).Should().Be(expected);

    [Fact]
    public void Stderr_lines_keep_their_hclog_level_and_panics_escalate()
    {
        var reader = new HclogReader();
        reader.Read("""{"@level":"warn","@message":"disk low","@module":"p","@timestamp":"2026-11-25T05:30:00.123456Z","free":"1GB"}""")
            .Should().BeEquivalentTo(new HclogEntry(LogLevel.Warning, "disk low", new Dictionary<string, string> { ["free"] = "1GB" }));
        reader.Read("""{"@level":"warn","@message":"x","@timestamp":"2026-11-25T05:30:00.12Z"}""").Level.Should().Be(LogLevel.Debug, "five-digit timestamps are not hclog");
        var error = reader.Read("[ERROR] broken");
        error.Level.Should().Be(LogLevel.Error);
        error.Message.Should().Be("broken");
        reader.Read("plain").Level.Should().Be(LogLevel.Debug);
        reader.Read("panic: runtime error").Level.Should().Be(LogLevel.Error);
        reader.Read("goroutine 1 [running]:").Level.Should().Be(LogLevel.Error, "everything after a panic is an error");
    }

    [Theory]
    [InlineData("ERROR", LogLevel.Error)]
    [InlineData("Warn", LogLevel.Warning)]
    [InlineData(" info ", LogLevel.Information)]
    [InlineData("TRACE", LogLevel.Trace)]
    public void Json_lines_without_a_timestamp_are_still_json_and_levels_match_in_any_case(string level, LogLevel expected)
    {
        var entry = new HclogReader().Read($$"""{"@level":"{{level}}","@message":"dial failed","error":"connection refused","attempt":3,"ok":false}""");

        entry.Level.Should().Be(expected);
        entry.Message.Should().Be("dial failed");
        entry.Fields.Should().Equal(new Dictionary<string, string> { ["error"] = "connection refused", ["attempt"] = "3", ["ok"] = "false" });
    }

    [Fact]
    public void The_hclog_writer_produces_lines_the_reader_understands()
    {
        using var output = new StringWriter();
        using var provider = new HclogLoggerProvider(output);
        provider.CreateLogger("sample").Log(LogLevel.Warning, default, "careful now", null, static (state, _) => state);
        var entry = new HclogReader().Read(output.ToString().Trim());
        entry.Level.Should().Be(LogLevel.Warning);
        entry.Message.Should().Be("careful now");
    }
}
