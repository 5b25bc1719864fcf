namespace Loop.Postgres;

/// <summary>
/// A condition that turns <c>synchronous_commit</c> off for the statement's own transaction, set inside the statement
/// (no extra round trip): for writes whose loss in a database crash only repeats work at-least-once allows (a delivery
/// mark, a run claim), so that their commits do not wait for a WAL flush beside the commits that must.
/// </summary>
internal static class PgAsyncCommit
{
    /// <summary>Append with <c>AND</c> to the statement's <c>WHERE</c>.</summary>
    public const string Condition = "(SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL";
}
