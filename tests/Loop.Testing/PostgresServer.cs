using System.Diagnostics;
using System.Runtime.InteropServices;
using Npgsql;

namespace Loop.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster in a temp folder on a free loopback port, started from the server binaries on this
/// machine (as the <c>postgres</c> user when running as root, since initdb refuses root). It can be stopped and
/// started again to test outages, and is removed on dispose, or when the process is stopped by SIGTERM or SIGINT.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>The environment variable naming an existing server's connection string (then no cluster is started).</summary>
    public const string ConnectionStringVariable = "LOOP_TEST_POSTGRES";

    /// <summary>The environment variable naming the folder of the PostgreSQL server binaries.</summary>
    public const string BinariesVariable = "LOOP_PG_BIN";

    private readonly string _bin;
    private readonly string _dataDir;
    private readonly string? _runAs;
    private readonly string _serverOptions;
    private PosixSignalRegistration[] _removeOnSignal = [];

    private PostgresServer(string bin, string dataDir, int port, string? runAs, bool durable)
    {
        // Tests trade durability for speed; benchmarks keep PostgreSQL's defaults.
        _serverOptions = durable ? string.Empty : "-c fsync=off -c full_page_writes=off";
        _bin = bin;
        _dataDir = dataDir;
        _runAs = runAs;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "loop",
            Database = "postgres",
            Pooling = true,
            MaxPoolSize = 100,
            Timeout = 5,
        }.ConnectionString;
    }

    /// <summary>The cluster's folder (its data, socket and log); the server's command line holds it.</summary>
    public string Folder => _dataDir;

    /// <summary>The cluster's port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A connection string to the cluster (user <c>loop</c>, trust authentication, loopback only).</summary>
    public string ConnectionString { get; }

    /// <summary>Creates and starts a cluster. Fails with a message that says why when it cannot.</summary>
    /// <param name="durable">Keep fsync on (benchmarks); off by default to keep tests fast.</param>
    public static async Task<PostgresServer> StartAsync(bool durable = false)
    {
        var bin = FindBinaries();
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        var dataDir = Path.Combine(Path.GetTempPath(), $"loop-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        if (runAs is not null)
        {
            await RunAsync("chown", [runAs, dataDir], null);
        }

        var server = new PostgresServer(bin, dataDir, FreePort.Next(), runAs, durable);
        try
        {
            await server.RunPgAsync("initdb", ["-D", Path.Combine(dataDir, "data"), "-U", "loop", "--auth=trust", "-E", "UTF8", "--no-sync"]);
            await File.AppendAllTextAsync(
                Path.Combine(dataDir, "data", "postgresql.conf"),
                $"\nlisten_addresses = '127.0.0.1'\nport = {server.Port}\nunix_socket_directories = '{dataDir}'\nmax_connections = 200\n");
            await server.StartAgainAsync();
            server.RemoveOnSignals();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a stopped cluster again on the same port.</summary>
    public Task StartAgainAsync() =>
        RunPgAsync("pg_ctl", ["-D", Path.Combine(_dataDir, "data"), "-l", Path.Combine(_dataDir, "server.log"), "-w", "-t", "60", "-o", _serverOptions, "start"]);

    /// <summary>Stops the cluster (fast shutdown: open sessions are cut).</summary>
    public Task StopAsync() => RunPgAsync("pg_ctl", ["-D", Path.Combine(_dataDir, "data"), "-m", "fast", "-w", "stop"]);

    /// <summary>Stops the cluster and removes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var registration in _removeOnSignal)
        {
            registration.Dispose();
        }

        await RemoveAsync();
    }

    /// <summary>
    /// A process stopped by SIGTERM or SIGINT (timeout, kill, Ctrl+C) runs no finally block and no dispose, and its
    /// cluster kept running (a benchmark stopped with timeout left one each time): the signal removes it first, then
    /// ends the process as it would have.
    /// </summary>
    private void RemoveOnSignals()
    {
        void Remove(PosixSignalContext context) => RemoveAsync().AsTask().GetAwaiter().GetResult();
        _removeOnSignal = [PosixSignalRegistration.Create(PosixSignal.SIGTERM, Remove), PosixSignalRegistration.Create(PosixSignal.SIGINT, Remove)];
    }

    private async ValueTask RemoveAsync()
    {
        try
        {
            await RunPgAsync("pg_ctl", ["-D", Path.Combine(_dataDir, "data"), "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Not running.
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task RunPgAsync(string tool, string[] args) => RunAsync(Path.Combine(_bin, tool), args, _runAs);

    private static async Task RunAsync(string file, string[] args, string? runAs)
    {
        var start = new ProcessStartInfo
        {
            FileName = runAs is null ? file : (File.Exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "runuser"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (runAs is not null)
        {
            foreach (var a in new[] { "-u", runAs, "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}");

        // pg_ctl start leaves the server holding inherited pipes; read to end only after exit, with a bound.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            var errText = await Task.WhenAny(stderr, Task.Delay(2000)) == stderr ? await stderr : string.Empty;
            var outText = await Task.WhenAny(stdout, Task.Delay(2000)) == stdout ? await stdout : string.Empty;
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode}: {errText} {outText}".Trim());
        }
    }

    private static string FindBinaries()
    {
        if (Environment.GetEnvironmentVariable(BinariesVariable) is { Length: > 0 } configured)
        {
            return File.Exists(Path.Combine(configured, "initdb"))
                ? configured
                : throw new InvalidOperationException($"{BinariesVariable}={configured} has no initdb.");
        }

        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).OrderByDescending(d => d, StringComparer.Ordinal)
            : Enumerable.Empty<string>();
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries);
        return candidates.Concat(path).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            ?? throw new InvalidOperationException(
                $"PostgreSQL tests need a server and none could be started: set {ConnectionStringVariable} to a connection string, " +
                $"or install the PostgreSQL server binaries (initdb and pg_ctl were not found in /usr/lib/postgresql/*/bin, {BinariesVariable} or PATH).");
    }
}
