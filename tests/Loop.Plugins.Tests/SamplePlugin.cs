using Loop.Testing;

namespace Loop.Plugins.Tests;

/// <summary>The sample plugin the tests start as a child process: its handshake (as samples/Loop.SamplePlugin declares it) and its built binary.</summary>
internal static class SamplePlugin
{
    public static readonly HandshakeConfig Handshake = new("LOOP_SAMPLE_PLUGIN", "a3d5e9c1-loop-sample", [1]);

    public static readonly string Binary = BuiltProgram.Path("samples/Loop.SamplePlugin", "Loop.SamplePlugin");
}
