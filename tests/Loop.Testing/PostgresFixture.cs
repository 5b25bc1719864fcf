using Npgsql;

namespace Loop.Testing;

/// <summary>
/// The PostgreSQL server of a test run: the one named by <c>LOOP_TEST_POSTGRES</c>, else a throwaway cluster started
/// for the run. Never skips: when neither works, every test using it fails with the reason.
/// </summary>
public sealed class PostgresFixture : IAsyncDisposable
{
    private PostgresServer? _owned;

    /// <summary>The connection string.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>A data source for the server.</summary>
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>Connects to or starts the server.</summary>
    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(PostgresServer.ConnectionStringVariable) is { Length: > 0 } configured)
        {
            ConnectionString = configured;
        }
        else
        {
            _owned = await PostgresServer.StartAsync();
            ConnectionString = _owned.ConnectionString;
        }

        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var check = await DataSource.OpenConnectionAsync();
    }

    /// <summary>A table name no other test uses.</summary>
    public static string UniqueTable() => $"t_{Guid.NewGuid():N}"[..30];

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (DataSource is not null)
        {
            await DataSource.DisposeAsync();
        }

        if (_owned is not null)
        {
            await _owned.DisposeAsync();
        }
    }
}
