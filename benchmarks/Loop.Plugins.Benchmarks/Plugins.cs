using Loop.Testing;

namespace Loop.Plugins.Benchmarks;

/// <summary>The plugins under measurement.</summary>
internal static class Plugins
{
    public static readonly HandshakeConfig Handshake = new("LOOP_SAMPLE_PLUGIN", "a3d5e9c1-loop-sample", [1]);

    public static string DotnetPlugin => BuiltProgram.Path("samples/Loop.SamplePlugin", "Loop.SamplePlugin");
}
