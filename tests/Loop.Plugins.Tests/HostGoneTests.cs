using System.Diagnostics;
using System.Globalization;
using Loop.Testing;

namespace Loop.Plugins.Tests;

/// <summary>A .NET plugin whose host was SIGKILLed stops by itself: no plugin outlives its host.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostGoneTests : IDisposable
{
    private static readonly string Plugin = BuiltProgram.Path("samples/Loop.SamplePlugin", "Loop.SamplePlugin");
    private readonly string _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"loop-host-gone-{Guid.NewGuid():N}")).FullName;

    public void Dispose()
    {
        try
        {
            ProcessLeaks.AssertNone(_folder);
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

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
        var handshake = Path.Combine(_folder, "handshake");
        var pidFile = Path.Combine(_folder, "plugin.pid");
        var host = Path.Combine(_folder, "host.sh");
        await File.WriteAllTextAsync(host, $"""
            #!/bin/sh
            export LOOP_TEST_FOLDER='{_folder}'
            export LOOP_SAMPLE_PLUGIN=a3d5e9c1-loop-sample
            export PLUGIN_PROTOCOL_VERSIONS=1
            '{Plugin}' > '{handshake}' 2>'{_folder}/stderr' &
            echo $! > '{pidFile}'
            wait
            """ + "\n");
        File.SetUnixFileMode(host, (UnixFileMode)0b111_101_101);
        using var hostProcess = Process.Start(new ProcessStartInfo(host) { UseShellExecute = false })!;
        await Eventually.WaitAsync(() => File.Exists(handshake) && File.ReadAllText(handshake).Contains("|grpc|", StringComparison.Ordinal), "the plugin's handshake");
        var plugin = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Alive(plugin).Should().BeTrue();

        hostProcess.Kill();
        await hostProcess.WaitForExitAsync();

        await Eventually.WaitAsync(() => !Alive(plugin), "the orphaned plugin to stop", TimeSpan.FromSeconds(15));
        File.ReadAllText(Path.Combine(_folder, "stderr")).Should().Contain("is gone; the plugin stops");
    }
}
