using System.Text.Json.Nodes;
using Loop.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Loop.Jobs.Stores.Postgres;

/// <summary>
/// The job store in PostgreSQL: tables created and versioned at start; runs claimed with <c>FOR UPDATE SKIP LOCKED</c>
/// and a lease, so hosts sharing the database each execute different runs; initiator fires recorded with their run in
/// one statement, so a fire starts one run across all hosts.
/// </summary>
public sealed class PgJobStore : IJobStore
{
    private const string Columns = "id, seq, job_id, status, initiator, created_at, creation_height, input, task_index, data, error, sleep_until, wait_height, pending_bridge, finished_at, results, owner, lease_until, version";
    private const string Open = "status NOT IN ('completed', 'errored', 'cancelled')";
    private readonly NpgsqlDataSource _dataSource;
    private readonly PgJobTables _t;

    /// <summary>Creates the store on <paramref name="dataSource"/> (owned by the caller).</summary>
    public PgJobStore(NpgsqlDataSource dataSource, PgJobStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _t = new PgJobTables(Loop.Options.OptionsCheck.Require(options ?? new PgJobStoreOptions(), string.Empty, new PgJobStoreOptionsValidator(), PgJobStoreOptions.Rules));
    }

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) => PgJobSchema.EnsureAsync(_dataSource, _t, cancellationToken);

    /// <inheritdoc />
    public async Task AddJobAsync(JobSpec job, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"INSERT INTO {_t.Jobs} (id, spec, created_at, archived_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING");
        command.Parameters.Add(new NpgsqlParameter { Value = job.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = job.ToJson().ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = job.CreatedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)job.ArchivedAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            throw StoreErrors.JobExists(job);
        }
    }

    /// <inheritdoc />
    public async Task<JobSpec?> GetJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var jobs = await ReadJobsAsync($"SELECT spec::text, created_at, archived_at FROM {_t.Jobs} WHERE id = $1", jobId, cancellationToken).ConfigureAwait(false);
        return jobs.Count == 0 ? null : jobs[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobSpec>> ListActiveJobsAsync(CancellationToken cancellationToken) =>
        ReadJobsAsync($"SELECT spec::text, created_at, archived_at FROM {_t.Jobs} WHERE archived_at IS NULL ORDER BY created_at, id", null, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> ArchiveJobAsync(string jobId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"UPDATE {_t.Jobs} SET archived_at = coalesce(archived_at, $2) WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = at });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async Task AddBridgeAsync(StoredBridge bridge, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"INSERT INTO {_t.Bridges} (name, url, incoming_token_hash, outgoing_token, confirmations) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING");
        command.Parameters.Add(new NpgsqlParameter { Value = bridge.Name });
        command.Parameters.Add(new NpgsqlParameter { Value = bridge.Url.ToString() });
        command.Parameters.Add(new NpgsqlParameter { Value = bridge.IncomingTokenHash });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)bridge.OutgoingToken ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = bridge.Confirmations });
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            throw StoreErrors.BridgeExists(bridge.Name);
        }
    }

    /// <inheritdoc />
    public async Task<StoredBridge?> GetBridgeAsync(string name, CancellationToken cancellationToken)
    {
        var bridges = await ReadBridgesAsync($"SELECT name, url, incoming_token_hash, outgoing_token, confirmations FROM {_t.Bridges} WHERE name = $1", name, cancellationToken).ConfigureAwait(false);
        return bridges.Count == 0 ? null : bridges[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredBridge>> ListBridgesAsync(CancellationToken cancellationToken) =>
        ReadBridgesAsync($"SELECT name, url, incoming_token_hash, outgoing_token, confirmations FROM {_t.Bridges} ORDER BY name", null, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> CreateRunsAsync(IReadOnlyList<NewRun> runs, CancellationToken cancellationToken)
    {
        // One batch, one transaction, one commit: the runs without a fire in one statement, each run with a fire in one
        // of its own; a run is inserted only when its job is live and its fire (when it has one) is new.
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        var plain = runs.Where(r => r.Fire is null).Select(r => r.Run).ToList();
        if (plain.Count > 0)
        {
            var command = new NpgsqlBatchCommand($"""
                INSERT INTO {_t.Runs} (id, job_id, status, initiator, created_at, creation_height, input, task_index, data, error, sleep_until, results, version)
                SELECT u.id, u.job_id, u.status, u.initiator, u.created_at, u.creation_height, u.input::json, 0, u.data::json, u.error, u.sleep_until, '[]'::json, 0
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
                    WITH ORDINALITY AS u(id, job_id, status, initiator, created_at, creation_height, input, data, error, sleep_until, ord)
                WHERE EXISTS (SELECT 1 FROM {_t.Jobs} j WHERE j.id = u.job_id AND j.archived_at IS NULL)
                ORDER BY u.ord
                RETURNING id, seq
                """);
            var p = command.Parameters;
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.Id).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.JobId).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.Status.ToName()).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.InitiatorType).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.CreatedAt).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.CreationHeight).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.Input?.ToJsonString()).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.Data?.ToJsonString()).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.Error).ToArray() });
            p.Add(new NpgsqlParameter { Value = plain.Select(r => r.SleepUntil).ToArray() });
            batch.BatchCommands.Add(command);
        }

        var fired = runs.Where(r => r.Fire is not null).ToList();
        foreach (var (run, fire) in fired)
        {
            var command = new NpgsqlBatchCommand($"""
                WITH live AS (SELECT 1 FROM {_t.Jobs} WHERE id = $1 AND archived_at IS NULL),
                fire AS (INSERT INTO {_t.Fires} (job_id, initiator, key, fired_at, run_id) SELECT $1, $10, $11, $12, $2 FROM live ON CONFLICT DO NOTHING RETURNING 1)
                INSERT INTO {_t.Runs} (id, job_id, status, initiator, created_at, creation_height, input, task_index, data, error, sleep_until, results, version)
                SELECT $2, $1, $3, $4, $5, $6, $7, 0, $8, $9, $13, '[]'::json, 0 FROM fire
                RETURNING id, seq
                """);
            var p = command.Parameters;
            p.Add(new NpgsqlParameter { Value = run.JobId });
            p.Add(new NpgsqlParameter { Value = run.Id });
            p.Add(new NpgsqlParameter { Value = run.Status.ToName() });
            p.Add(new NpgsqlParameter { Value = run.InitiatorType });
            p.Add(new NpgsqlParameter { Value = run.CreatedAt });
            p.Add(Nullable(run.CreationHeight, NpgsqlDbType.Bigint));
            p.Add(Json(run.Input?.ToJsonString()));
            p.Add(Json(run.Data?.ToJsonString()));
            p.Add(Nullable(run.Error, NpgsqlDbType.Text));
            p.Add(new NpgsqlParameter { Value = fire!.InitiatorIndex });
            p.Add(new NpgsqlParameter { Value = fire.Key });
            p.Add(new NpgsqlParameter { Value = fire.At });
            p.Add(Nullable(run.SleepUntil, NpgsqlDbType.TimestampTz));
            batch.BatchCommands.Add(command);
        }

        var sequences = new Dictionary<Guid, long>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            do
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    sequences[reader.GetGuid(0)] = reader.GetInt64(1);
                }
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
        }

        var created = new bool[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            if (sequences.TryGetValue(runs[i].Run.Id, out var seq))
            {
                runs[i].Run.Sequence = seq;
                created[i] = true;
            }
        }

        return created;
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset?> GetLastFireAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT max(fired_at) FROM {_t.Fires} WHERE job_id = $1 AND initiator = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = initiatorIndex });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    /// <inheritdoc />
    public async Task<Guid?> FindFireRunAsync(string jobId, int initiatorIndex, string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT run_id FROM {_t.Fires} WHERE job_id = $1 AND initiator = $2 AND key = $3");
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = initiatorIndex });
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is Guid id ? id : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PendingFire>> ListPendingFiresAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            SELECT f.key, f.run_id, r.creation_height FROM {_t.Fires} f JOIN {_t.Runs} r ON r.id = f.run_id
            WHERE f.job_id = $1 AND f.initiator = $2 AND r.status IN ('pending_confirmations', 'pending_connection')
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = initiatorIndex });
        var pending = new List<PendingFire>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            pending.Add(new PendingFire(reader.GetString(0), reader.GetGuid(1), await reader.IsDBNullAsync(2, cancellationToken).ConfigureAwait(false) ? null : reader.GetInt64(2)));
        }

        return pending;
    }

    /// <inheritdoc />
    public async Task<long?> GetInitiatorCheckpointAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT position FROM {_t.Checkpoints} WHERE job_id = $1 AND initiator = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = initiatorIndex });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long position ? position : null;
    }

    /// <inheritdoc />
    public async Task SaveInitiatorCheckpointAsync(string jobId, int initiatorIndex, long position, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_t.Checkpoints} AS c (job_id, initiator, position) VALUES ($1, $2, $3)
            ON CONFLICT (job_id, initiator) DO UPDATE SET position = excluded.position WHERE c.position < excluded.position
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new NpgsqlParameter { Value = initiatorIndex });
        command.Parameters.Add(new NpgsqlParameter { Value = position });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Head?> GetHeadAsync(string chain, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT number, hash FROM {_t.Heads} WHERE chain = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = chain });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new Head(reader.GetInt64(0), reader.GetString(1)) : null;
    }

    /// <inheritdoc />
    public async Task<bool> SaveHeadAsync(string chain, Head head, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);

        // A head lost in a database crash is only learnt again from the chain: an update (every head but the first)
        // does not wait for a WAL flush.
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_t.Heads} AS h (chain, number, hash) VALUES ($1, $2, $3)
            ON CONFLICT (chain) DO UPDATE SET number = excluded.number, hash = excluded.hash
            WHERE h.number < excluded.number AND {PgAsyncCommit.Condition}
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = chain });
        command.Parameters.Add(new NpgsqlParameter { Value = head.Number });
        command.Parameters.Add(new NpgsqlParameter { Value = head.Hash });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public async Task<JobRun?> GetRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM {_t.Runs} WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        var runs = await ReadRunsAsync(command, cancellationToken).ConfigureAwait(false);
        return runs.Count == 0 ? null : runs[0];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<JobRun>> ListRunsAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM {_t.Runs} WHERE job_id = $1 ORDER BY seq");
        command.Parameters.Add(new NpgsqlParameter { Value = jobId });
        return await ReadRunsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<JobRun>> ClaimRunsAsync(string owner, DateTimeOffset now, DateTimeOffset wakeBy, DateTimeOffset leaseUntil, long? height, int jobs, int runsPerJob, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // The readiness test is on the locked row itself (r), so that PostgreSQL re-checks it against the row's latest
        // version when another host changed the row meanwhile: a run finished elsewhere is never claimed again. A claim
        // that a database crash loses only lets the run be claimed again (its executor's next write then fails its
        // version check), so the claim's commit does not wait for its WAL flush.
        var heads = new List<(Guid Id, string JobId, long Sequence)>();
        await using (var command = new NpgsqlCommand(
            $"""
            WITH heads AS (
                SELECT DISTINCT ON (job_id) id FROM {_t.Runs} WHERE {Open} ORDER BY job_id, seq)
            SELECT r.id, r.job_id, r.seq FROM {_t.Runs} r JOIN heads h ON h.id = r.id
            WHERE ((r.status = 'in_progress' AND (r.sleep_until IS NULL OR r.sleep_until <= $4))
                   OR (r.status = 'pending_sleep' AND r.sleep_until <= $4)
                   OR (r.status = 'pending_confirmations' AND r.wait_height <= $2))
              AND (r.owner IS NULL OR r.lease_until < $1)
              AND {PgAsyncCommit.Condition}
            ORDER BY r.seq
            LIMIT $3
            FOR UPDATE OF r SKIP LOCKED
            """,
            connection,
            transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = now });
            command.Parameters.Add(Nullable(height, NpgsqlDbType.Bigint));
            command.Parameters.Add(new NpgsqlParameter { Value = jobs });
            command.Parameters.Add(new NpgsqlParameter { Value = wakeBy });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                heads.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2)));
            }
        }

        if (heads.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return [];
        }

        var ids = heads.Select(h => h.Id).ToList();
        if (runsPerJob > 1)
        {
            // The runs right after each head, in order, taken while they are fresh and free: the host runs them after it.
            await using var command = new NpgsqlCommand(
                $"""
                SELECT f.id, f.job_id, f.status = 'in_progress' AND (f.sleep_until IS NULL OR f.sleep_until <= $5) AND (f.owner IS NULL OR f.lease_until < $1)
                FROM unnest($2::text[], $3::bigint[]) AS h(job_id, seq)
                CROSS JOIN LATERAL (
                    SELECT x.id, x.job_id, x.seq, x.status, x.sleep_until, x.owner, x.lease_until FROM {_t.Runs} x
                    WHERE x.job_id = h.job_id AND x.seq > h.seq AND x.{Open}
                    ORDER BY x.seq LIMIT $4 FOR UPDATE) f
                ORDER BY f.job_id, f.seq
                """,
                connection,
                transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = now });
            command.Parameters.Add(new NpgsqlParameter { Value = heads.Select(h => h.JobId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = heads.Select(h => h.Sequence).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = runsPerJob - 1 });
            command.Parameters.Add(new NpgsqlParameter { Value = wakeBy });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var stopped = new HashSet<string>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var jobId = reader.GetString(1);
                if (!stopped.Contains(jobId) && reader.GetBoolean(2))
                {
                    ids.Add(reader.GetGuid(0));
                }
                else
                {
                    stopped.Add(jobId);
                }
            }
        }

        List<JobRun> claimed;
        await using (var command = new NpgsqlCommand(
            $"UPDATE {_t.Runs} u SET owner = $2, lease_until = $3, version = u.version + 1 WHERE u.id = ANY($1) RETURNING {string.Join(", ", Columns.Split(", ").Select(c => "u." + c))}",
            connection,
            transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = owner });
            command.Parameters.Add(new NpgsqlParameter { Value = leaseUntil });
            claimed = await ReadRunsAsync(command, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        var order = heads.Select((h, i) => (h.JobId, i)).ToDictionary(p => p.JobId, p => p.i, StringComparer.Ordinal);
        return [.. claimed.OrderBy(r => order[r.JobId]).ThenBy(r => r.Sequence)];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> UpdateRunsAsync(IReadOnlyList<JobRun> runs, CancellationToken cancellationToken)
    {
        if (runs.Count == 0)
        {
            return [];
        }

        // One statement for every update waiting (one plan, one commit). A run named twice in one call is written
        // once at most: its second entry carries the version the first one replaces, so it is refused.
        var first = new HashSet<Guid>();
        var rows = runs.Where(r => first.Add(r.Id)).ToList();
        await using var command = _dataSource.CreateCommand($"""
            UPDATE {_t.Runs} r SET status = u.status, creation_height = u.creation_height, task_index = u.task_index, data = u.data::json,
                error = u.error, sleep_until = u.sleep_until, wait_height = u.wait_height, pending_bridge = u.pending_bridge,
                finished_at = u.finished_at, results = u.results::json, owner = u.owner, lease_until = u.lease_until, version = r.version + 1
            FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::timestamptz[], $8::bigint[],
                        $9::text[], $10::timestamptz[], $11::text[], $12::text[], $13::timestamptz[], $14::int[])
                AS u(id, status, creation_height, task_index, data, error, sleep_until, wait_height, pending_bridge, finished_at, results, owner, lease_until, version)
            WHERE r.id = u.id AND r.version = u.version
            RETURNING r.id
            """);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.Id).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.Status.ToName()).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.CreationHeight).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.TaskIndex).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.Data?.ToJsonString()).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.Error).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.SleepUntil).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.WaitForHeight).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.PendingBridge).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.FinishedAt).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => RunResultsJson.Write(r.Results)).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.Owner).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.LeaseUntil).ToArray() });
        p.Add(new NpgsqlParameter { Value = rows.Select(r => r.Version).ToArray() });
        var updated = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                updated.Add(reader.GetGuid(0));
            }
        }

        var written = new bool[runs.Count];
        var counted = new HashSet<Guid>();
        for (var i = 0; i < runs.Count; i++)
        {
            written[i] = updated.Contains(runs[i].Id) && counted.Add(runs[i].Id);
            if (written[i])
            {
                runs[i].Version++;
            }
        }

        return written;
    }

    /// <inheritdoc />
    public async Task<int> ResumeConnectingRunsAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"UPDATE {_t.Runs} SET status = 'in_progress', version = version + 1 WHERE status = 'pending_connection'");
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT min(sleep_until) FROM {_t.Runs} WHERE status IN ('pending_sleep', 'in_progress') AND sleep_until IS NOT NULL");
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT status, count(*) FROM {_t.Runs} GROUP BY status");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var counts = new Dictionary<RunStatus, long>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts[RunStatuses.Parse(reader.GetString(0))] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <inheritdoc />
    public async Task<int> DeleteFinishedRunsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            WITH old AS (SELECT id FROM {_t.Runs} WHERE finished_at < $1 ORDER BY finished_at LIMIT $2),
            gone AS (DELETE FROM {_t.Runs} r USING old WHERE r.id = old.id RETURNING 1),
            fires AS (DELETE FROM {_t.Fires} f WHERE f.fired_at < $1
                AND f.fired_at < (SELECT max(l.fired_at) FROM {_t.Fires} l WHERE l.job_id = f.job_id AND l.initiator = f.initiator))
            SELECT count(*)::int FROM gone
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = before });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static NpgsqlParameter Json(string? json) => new() { Value = (object?)json ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Json };

    private static NpgsqlParameter Nullable(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    private async Task<IReadOnlyList<JobSpec>> ReadJobsAsync(string text, string? id, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(text);
        if (id is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = id });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var jobs = new List<JobSpec>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var spec = JobSpec.Parse(reader.GetString(0));
            jobs.Add(spec.With(createdAt: reader.GetFieldValue<DateTimeOffset>(1), archivedAt: reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return jobs;
    }

    private async Task<IReadOnlyList<StoredBridge>> ReadBridgesAsync(string text, string? name, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(text);
        if (name is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = name });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var bridges = new List<StoredBridge>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            bridges.Add(new StoredBridge(reader.GetString(0), new Uri(reader.GetString(1)), reader.GetFieldValue<byte[]>(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4)));
        }

        return bridges;
    }

    private static async Task<List<JobRun>> ReadRunsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var runs = new List<JobRun>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            runs.Add(new JobRun
            {
                Id = reader.GetGuid(0),
                Sequence = reader.GetInt64(1),
                JobId = reader.GetString(2),
                Status = RunStatuses.Parse(reader.GetString(3)),
                InitiatorType = reader.GetString(4),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(5),
                CreationHeight = reader.IsDBNull(6) ? null : reader.GetInt64(6),
                Input = reader.IsDBNull(7) ? null : JsonNode.Parse(reader.GetString(7)),
                TaskIndex = reader.GetInt32(8),
                Data = reader.IsDBNull(9) ? null : JsonNode.Parse(reader.GetString(9)),
                Error = reader.IsDBNull(10) ? null : reader.GetString(10),
                SleepUntil = reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
                WaitForHeight = reader.IsDBNull(12) ? null : reader.GetInt64(12),
                PendingBridge = reader.IsDBNull(13) ? null : reader.GetString(13),
                FinishedAt = reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14),
                Results = RunResultsJson.Read(reader.GetString(15)),
                Owner = reader.IsDBNull(16) ? null : reader.GetString(16),
                LeaseUntil = reader.IsDBNull(17) ? null : reader.GetFieldValue<DateTimeOffset>(17),
                Version = reader.GetInt32(18),
            });
        }

        return runs;
    }
}
