using System.Runtime.InteropServices;
using Loop.DurableEmitter.Stores;
using Loop.DurableEmitter.Stores.Postgres;
using Loop.Events;
using Npgsql;
using NpgsqlTypes;

namespace Loop.DurableEmitter;

/// <summary>
/// An <see cref="IDurableEventStore"/> on PostgreSQL through an <see cref="NpgsqlDataSource"/>. It creates and versions
/// its table itself (see <see cref="InitializeAsync"/>). Times come from the store's <see cref="TimeProvider"/>, so
/// creation times, cutoffs and leases share one clock. Many processes may share one table.
/// </summary>
public sealed class PgDurableEventStore : IDurableEventStore, IBatchInserter, IDurableQueueObserver, IInitializableStore
{
    private const int ExpiryChunk = 5000;
    private const int IdBlock = 1024;
    private readonly PgIdReservations _reserved = new();
    private readonly NpgsqlDataSource _dataSource;
    private readonly PgDurableEventStoreOptions _options;
    private readonly PgSqlText _sql;
    private readonly TimeProvider _timeProvider;
    private readonly bool _prepare;

    /// <summary>Creates the store. The caller owns <paramref name="dataSource"/>.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; every one is named.</exception>
    public PgDurableEventStore(NpgsqlDataSource dataSource, PgDurableEventStoreOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = Loop.Options.OptionsCheck.Require(options ?? new PgDurableEventStoreOptions(), string.Empty, new PgDurableEventStoreOptionsValidator(), PgDurableEventStoreOptions.Rules);

        _dataSource = dataSource;
        _sql = new PgSqlText(_options);
        _timeProvider = timeProvider ?? TimeProvider.System;

        // Npgsql cannot prepare explicitly on a multiplexing data source.
        _prepare = _options.PrepareStatements && !new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Multiplexing;
    }

    /// <summary>The qualified table name.</summary>
    public string Table => _sql.Table;

    /// <summary>Creates or upgrades the schema (when <see cref="PgDurableEventStoreOptions.CreateSchema"/>). Idempotent.</summary>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_options.CreateSchema)
        {
            await PgSchema.EnsureAsync(_dataSource, _sql, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask<long> InsertAsync(ReadOnlyMemory<byte> payload, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default) =>
        (await InsertRowsAsync([payload], leaseUntil, cancellationToken).ConfigureAwait(false))[0];

    /// <inheritdoc />
    public ValueTask<long[]> InsertBatchAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        if (payloads.Count == 0)
        {
            return ValueTask.FromResult(Array.Empty<long>());
        }

        return _options.BatchInsertMode == PgBatchInsertMode.BinaryCopy && payloads.Count > 1
            ? CopyBatchAsync(payloads, leaseUntil, cancellationToken)
            : InsertRowsAsync(payloads, leaseUntil, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask ReleaseLeasesAsync(IReadOnlyList<DurableLease> leases, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leases);
        if (leases.Count == 0)
        {
            return;
        }

        var ids = new long[leases.Count];
        var until = new DateTimeOffset[leases.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = leases[i].Id;
            until[i] = StoreClock.Truncate(leases[i].Until);
        }

        await using var command = _dataSource.CreateCommand(_sql.ReleaseLeases);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = until });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DeleteAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(_sql.Delete);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask MarkDeliveredAsync(long id, CancellationToken cancellationToken = default) =>
        await MarkDeliveredBatchAsync([id], cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<long> MarkDeliveredBatchAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return 0;
        }

        await using var command = _dataSource.CreateCommand(_sql.MarkDelivered);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids as long[] ?? [.. ids] });
        if (!_options.DeleteOnDelivery)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = StoreClock.Now(_timeProvider) });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<long> PurgeDeliveredAsync(int batchLimit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchLimit);
        await using var command = _dataSource.CreateCommand(_sql.Purge);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchLimit });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<DurableEvent>> ListPendingAsync(
        DateTimeOffset createdBefore, PendingCursor? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = _dataSource.CreateCommand(_sql.ListPending);
        AddPendingParameters(command, createdBefore, after, limit);
        return await ReadEventsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<DurableEvent>> ClaimPendingAsync(
        DateTimeOffset createdBefore, PendingCursor? after, int limit, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var now = StoreClock.Now(_timeProvider);
        await using var command = _dataSource.CreateCommand(_sql.ClaimPending);
        AddPendingParameters(command, createdBefore, after, limit);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now + lease });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        var events = await ReadEventsAsync(command, cancellationToken, withLease: true).ConfigureAwait(false);

        // UPDATE … RETURNING has no order.
        events.Sort(static (a, b) => (a.CreatedAt, a.Id).CompareTo((b.CreatedAt, b.Id)));
        return events;
    }

    /// <inheritdoc />
    public async ValueTask<long> DeleteExpiredAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var cutoff = StoreClock.Now(_timeProvider) - ttl;
        long total = 0;
        while (true)
        {
            await using var command = _dataSource.CreateCommand(_sql.DeleteExpired);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoff });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = ExpiryChunk });
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            total += deleted;
            if (deleted < ExpiryChunk)
            {
                return total;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<DurableQueueStats> ObserveDurableQueueAsync(
        TimeSpan eventTtl, TimeSpan nearExpiryLead, CancellationToken cancellationToken = default)
    {
        var now = StoreClock.Now(_timeProvider);
        await using var command = _dataSource.CreateCommand(_sql.Stats);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - (eventTtl - nearExpiryLead) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var oldest = await reader.IsDBNullAsync(3, cancellationToken).ConfigureAwait(false) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(3);
        var age = oldest is { } o && now > o ? now - o : TimeSpan.Zero;
        return new DurableQueueStats(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), age, reader.GetInt64(4));
    }

    private static NpgsqlParameter LeaseParameter(DateTimeOffset? leaseUntil) =>
        leaseUntil is { } until
            ? new NpgsqlParameter<DateTimeOffset> { TypedValue = StoreClock.Truncate(until) }
            : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private async ValueTask<long[]> CopyBatchAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, DateTimeOffset? leaseUntil, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var ids = await TakeIdsAsync(connection, payloads.Count, cancellationToken).ConfigureAwait(false);
        var createdAt = StoreClock.Now(_timeProvider);
        var lease = leaseUntil is { } until ? StoreClock.Truncate(until) : (DateTimeOffset?)null;
        await using var importer = await connection.BeginBinaryImportAsync(_sql.Copy, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < ids.Length; i++)
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(ids[i], NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(payloads[i], NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(createdAt, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            if (lease is { } value)
            {
                await importer.WriteAsync(value, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return ids;
    }

    /// <summary>
    /// One statement, one round trip: a row as VALUES, more as arrays. The ids come from the reservation, so there is no
    /// RETURNING row to describe and read, and the statement is prepared on the connection (PostgreSQL parses and plans
    /// it once per connection). A lone emit so waits for one round trip and one commit, as a plain INSERT does; a binary
    /// COPY takes two round trips (the command, then the data).
    /// </summary>
    private async ValueTask<long[]> InsertRowsAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, DateTimeOffset? leaseUntil, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var ids = await TakeIdsAsync(connection, payloads.Count, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(ids.Length == 1 ? _sql.InsertRow : _sql.InsertRows, connection);
        if (ids.Length == 1)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = ids[0] });
            command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = payloads[0], NpgsqlDbType = NpgsqlDbType.Bytea });
        }
        else
        {
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
            command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = ToArrays(payloads), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        }

        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = StoreClock.Now(_timeProvider) });
        command.Parameters.Add(LeaseParameter(leaseUntil));
        if (_prepare)
        {
            // Npgsql keeps a prepared statement with the physical connection: after the first time this is a lookup.
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return ids;
    }

    /// <summary>Takes <paramref name="count"/> ascending ids from the reservation, drawing a block ahead when it runs short (so most batches need no round trip for ids).</summary>
    private async ValueTask<long[]> TakeIdsAsync(NpgsqlConnection connection, int count, CancellationToken cancellationToken)
    {
        var ids = new long[count];
        if (_reserved.TryTake(ids))
        {
            return ids;
        }

        var drawn = new long[Math.Max(count, IdBlock)];
        await using var reserve = new NpgsqlCommand(_sql.ReserveIds, connection);
        reserve.Parameters.Add(new NpgsqlParameter<int> { TypedValue = drawn.Length });
        await using (var reader = await reserve.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            var i = 0;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                drawn[i++] = reader.GetInt64(0);
            }
        }

        _reserved.Refill(drawn, ids);
        return ids;
    }

    private static void AddPendingParameters(NpgsqlCommand command, DateTimeOffset createdBefore, PendingCursor? after, int limit)
    {
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = createdBefore.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = after?.CreatedAt.ToUniversalTime() ?? DateTimeOffset.MinValue });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after?.Id ?? 0 });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
    }

    private static async Task<List<DurableEvent>> ReadEventsAsync(NpgsqlCommand command, CancellationToken cancellationToken, bool withLease = false)
    {
        var events = new List<DurableEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events.Add(new DurableEvent(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<DateTimeOffset>(2))
            {
                LeaseUntil = withLease ? reader.GetFieldValue<DateTimeOffset>(3) : null,
            });
        }

        return events;
    }

    private static byte[][] ToArrays(IReadOnlyList<ReadOnlyMemory<byte>> payloads)
    {
        var arrays = new byte[payloads.Count][];
        for (var i = 0; i < arrays.Length; i++)
        {
            var payload = payloads[i];
            arrays[i] = MemoryMarshal.TryGetArray(payload, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : payload.ToArray();
        }

        return arrays;
    }
}
