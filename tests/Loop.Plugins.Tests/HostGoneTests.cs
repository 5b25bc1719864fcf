using System.Diagnostics;
using System.Globalization;
using Loop.Testing;

namespace Loop.Plugins.Tests;

/// <summary>A .NET plugin whose host was SIGKILLed stops by itself: no plugin outlives its host.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostGoneTests : IDisposable
{
    private static readonly string Plugin = SamplePlugin.Binary;
    private readonly MarkedFolder _scratch = new("loop-host-gone");

    public void Dispose() => _scratch.Dispose();

    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_plugin_stops_when_its_host_is_killed_with_SIGKILL()
    {
        // The "host" is a shell that launches the plugin as go-plugin does (cookie and versions in the environment)
        // and waits; killing it with SIGKILL leaves the plugin an orphan. It is killed as soon as the handshake is out,
        // while the plugin is still starting.
        var handshake = Path.Combine(_scratch.Path, "handshake");
        var pidFile = Path.Combine(_scratch.Path, "plugin.pid");
        var stderr = Path.Combine(_scratch.Path, "stderr");
        var host = _scratch.Script(
            "host.sh",
            $"""
            export LOOP_SAMPLE_PLUGIN=a3d5e9c1-loop-sample
            export PLUGIN_PROTOCOL_VERSIONS=1
            '{Plugin}' > '{handshake}' 2>'{stderr}' &
            echo $! > '{pidFile}'
            wait
            """);
        using var hostProcess = Process.Start(new ProcessStartInfo(host) { UseShellExecute = false })!;
        await Eventually.WaitAsync(() => File.Exists(handshake) && File.ReadAllText(handshake).Contains("|grpc|", StringComparison.Ordinal), "the plugin's handshake");
        var plugin = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Alive(plugin).Should().BeTrue();

        hostProcess.Kill();
        await hostProcess.WaitForExitAsync();

        await Eventually.WaitAsync(() => !Alive(plugin), "the orphaned plugin to stop", TimeSpan.FromSeconds(15));
        File.ReadAllText(stderr).Should().Contain("is gone; the plugin stops");
    }
}
