namespace Loop.DurableEmitter.Stores.Postgres;

/// <summary>The store's SQL, built once from validated identifiers (never from user input at run time).</summary>
internal sealed class PgSqlText
{
    public PgSqlText(PgDurableEventStoreOptions options)
    {
        Schema = options.Schema;
        TableName = options.TableName;
        Table = $"{options.Schema}.{options.TableName}";
        Sequence = $"{options.Schema}.{options.TableName}_id_seq";

        InsertRow = $"INSERT INTO {Table} (id, payload, created_at, lease_until) VALUES ($1, $2, $3, $4)";
        InsertRows = $"INSERT INTO {Table} (id, payload, created_at, lease_until) SELECT i, p, $3, $4 FROM unnest($1::bigint[], $2::bytea[]) AS u(i, p)";
        ReserveIds = $"SELECT nextval('{Sequence}') FROM generate_series(1, $1)";
        Copy = $"COPY {Table} (id, payload, created_at, lease_until) FROM STDIN (FORMAT BINARY)";
        Delete = $"DELETE FROM {Table} WHERE id = $1";

        // A mark finds its rows by primary key only. Written as "delivered_at IS NULL", the planner also bitmap-scanned
        // the whole partial pending index, and bitmap scans never mark dead entries, so until a vacuum every mark read
        // the entries of all rows delivered since: end-to-end throughput fell by a third within 15 s. The coalesce
        // cannot be matched to that index; delivered_at is never 'infinity'.
        //
        // A mark takes its row locks as its scan reaches the rows: in id order by an index scan (a B-tree scan sorts the
        // array's keys), in the table's physical order by a bitmap or sequential scan; two marks of overlapping rows
        // using the same kind of plan so never deadlock. A mark that waits for another's lock re-checks the row and skips
        // it once delivered. Overlapping marks do not happen in normal running (a row is in flight in one process at a
        // time, under its lease); should two ever meet with different plans and deadlock, PostgreSQL fails one of them,
        // and its rows are redelivered: a duplicate, never a loss. Marks used to take their locks in a FOR UPDATE
        // subquery first, one order always, at the cost of a second write to every row (pgbench, 4 clients, 16 rows a
        // commit: insert and mark 28.0k rows/s with it, 33.8k without). Marks are not prepared: each is planned for the
        // table's current size, so a plan made while the table was small (a sequential scan) is not kept as it grows.
        //
        // A mark commits without waiting for its WAL flush (synchronous_commit off for its own transaction only, as
        // upstream's emitter does for its delivery delete): a mark lost in a crash means a redelivery, which
        // at-least-once allows, while a flushed mark competes with the emits' commits for every WAL flush.
        const string AsyncCommit = Loop.Postgres.PgAsyncCommit.Condition;
        MarkDelivered = options.DeleteOnDelivery
            ? $"""
              DELETE FROM {Table}
              WHERE id = ANY($1) AND coalesce(delivered_at, 'infinity') = 'infinity' AND {AsyncCommit}
              """
            : $"""
              UPDATE {Table} SET delivered_at = $2, lease_until = NULL
              WHERE id = ANY($1) AND coalesce(delivered_at, 'infinity') = 'infinity' AND {AsyncCommit}
              """;
        Purge = $"""
            DELETE FROM {Table} WHERE id IN (
                SELECT id FROM {Table} WHERE delivered_at IS NOT NULL ORDER BY delivered_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            """;
        ListPending = $"""
            SELECT id, payload, created_at FROM {Table}
            WHERE delivered_at IS NULL AND created_at < $1 AND (created_at, id) > ($2, $3)
            ORDER BY created_at, id LIMIT $4
            """;
        ClaimPending = $"""
            UPDATE {Table} SET lease_until = $5 WHERE id IN (
                SELECT id FROM {Table}
                WHERE delivered_at IS NULL AND created_at < $1 AND (created_at, id) > ($2, $3)
                  AND (lease_until IS NULL OR lease_until <= $6)
                ORDER BY created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
            RETURNING id, payload, created_at, lease_until
            """;
        // Only a lease still as given: one that ran out and was taken by another claim has a later end and stays.
        ReleaseLeases = $"""
            UPDATE {Table} t SET lease_until = NULL
            FROM unnest($1::bigint[], $2::timestamptz[]) AS r(id, until)
            WHERE t.id = r.id AND t.delivered_at IS NULL AND t.lease_until <= r.until
            """;
        DeleteExpired = $"""
            DELETE FROM {Table} WHERE id IN (
                SELECT id FROM {Table} WHERE delivered_at IS NULL AND created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
            """;
        Stats = $"""
            SELECT count(*) FILTER (WHERE delivered_at IS NULL),
                   count(*),
                   coalesce(sum(octet_length(payload)) FILTER (WHERE delivered_at IS NULL), 0)::bigint,
                   min(created_at) FILTER (WHERE delivered_at IS NULL),
                   count(*) FILTER (WHERE delivered_at IS NULL AND created_at <= $1)
            FROM {Table}
            """;
    }

    public string Schema { get; }

    public string TableName { get; }

    public string Table { get; }

    public string Sequence { get; }

    public string InsertRow { get; }

    public string InsertRows { get; }

    public string ReserveIds { get; }

    public string Copy { get; }

    public string Delete { get; }

    public string MarkDelivered { get; }

    public string Purge { get; }

    public string ListPending { get; }

    public string ClaimPending { get; }

    public string ReleaseLeases { get; }

    public string DeleteExpired { get; }

    public string Stats { get; }
}
