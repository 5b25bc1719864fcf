using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loop.Testing;

namespace Loop.Jobs.Ethereum.Tests;

/// <summary>
/// A real local Ethereum node for a test: ganache (the npm package, installed once per machine by the first test that
/// needs it, as the Go interop fixture installs its packages) on a free loopback port, its chain kept in the test's
/// folder so that it can be stopped and started again on the same chain. Mines a block per transaction; tests mine
/// more with <see cref="MineAsync"/>, so no test waits on wall time.
/// </summary>
public sealed class Ganache : IAsyncDisposable
{
    public const string Version = "7.9.2";

    private static readonly Lazy<Task<string>> Installed = new(InstallAsync);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _cli;
    private Process? _process;

    private Ganache(string cli, string folder, int port)
    {
        _cli = cli;
        Folder = folder;
        Port = port;
    }

    /// <summary>The test's folder: the chain's database, and the marker of every process the node started.</summary>
    public string Folder { get; }

    public int Port { get; }

    public Uri WebSocketUrl => new($"ws://127.0.0.1:{Port}");

    public Uri HttpUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>The funded, unlocked account transactions are sent from (deterministic wallet).</summary>
    public string Account { get; private set; } = string.Empty;

    public static async Task<Ganache> StartAsync()
    {
        var cli = await Installed.Value;
        var folder = Path.Combine(ProcessScratch.Create("loop-ganache"), Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var node = new Ganache(cli, folder, FreePort.Next());
        await node.StartAgainAsync();
        node.Account = (await node.CallAsync("eth_accounts"))!.AsArray()[0]!.GetValue<string>();
        return node;
    }

    /// <summary>Starts the node (again, on the chain it had) and waits until it answers.</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { _cli, "--host", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--wallet.deterministic", "--chain.chainId", "1337", "--logging.quiet", "--database.dbPath", Path.Combine(Folder, "chain") })
        {
            start.ArgumentList.Add(arg);
        }

        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? string.Empty);
        _process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? string.Empty);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.WaitAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"ganache exited at start with {_process.ExitCode}: {string.Join('\n', output)}");
            }

            try
            {
                await CallAsync("eth_blockNumber");
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, $"ganache answering on port {Port}");
    }

    /// <summary>Stops the node (SIGTERM, as an operator would) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await term.WaitForExitAsync();
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _process = null;
    }

    public async Task<long> BlockNumberAsync() => Convert.ToInt64((await CallAsync("eth_blockNumber"))!.GetValue<string>(), 16);

    /// <summary>Mines <paramref name="blocks"/> empty blocks; returns the new block number.</summary>
    public async Task<long> MineAsync(int blocks = 1)
    {
        for (var i = 0; i < blocks; i++)
        {
            await CallAsync("evm_mine");
        }

        return await BlockNumberAsync();
    }

    /// <summary>Takes a snapshot of the chain (<c>evm_snapshot</c>); <see cref="RevertAsync"/> goes back to it.</summary>
    public async Task<string> SnapshotAsync() => (await CallAsync("evm_snapshot"))!.GetValue<string>();

    /// <summary>Drops every block after the snapshot (<c>evm_revert</c>): the blocks mined next replace them, a reorganisation.</summary>
    public async Task RevertAsync(string snapshot) => (await CallAsync("evm_revert", snapshot))!.GetValue<bool>().Should().BeTrue();

    public async Task<JsonNode?> CallAsync(string method, params object[] parameters)
    {
        using var response = await Http.PostAsJsonAsync(HttpUrl, new { jsonrpc = "2.0", id = 1, method, @params = parameters });
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (body!["error"] is { } error)
        {
            throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        }

        return body["result"];
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        ProcessLeaks.AssertNone(Folder);
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; the scratch folder is under the run's temp root.
        }
    }

    private static async Task<string> InstallAsync()
    {
        var cache = Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "loop-tests", $"ganache-{Version}");
        var cli = Path.Combine(cache, "node_modules", "ganache", "dist", "node", "cli.js");
        if (File.Exists(cli))
        {
            return cli;
        }

        Directory.CreateDirectory(cache);

        // Test processes of several projects may install at once: one takes the lock, the others find it installed.
        await using var gate = await LockAsync(Path.Combine(cache, "install.lock"));
        if (File.Exists(cli))
        {
            return cli;
        }

        var npm = new ProcessStartInfo("npm") { WorkingDirectory = cache, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "install", "--no-audit", "--no-fund", "--no-save", "--prefix", cache, $"ganache@{Version}" })
        {
            npm.ArgumentList.Add(arg);
        }

        using var process = Process.Start(npm) ?? throw new InvalidOperationException("npm could not be started: install Node.js and npm (Debian: apt-get install nodejs npm)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !File.Exists(cli))
        {
            throw new InvalidOperationException($"npm install ganache@{Version} failed ({process.ExitCode}): {await stderr} {await stdout}");
        }

        return cli;
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (5 * 60 * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (TimeProvider.System.GetTimestamp() < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
