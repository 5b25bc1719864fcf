using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>Options of <see cref="PgDurableEventStore"/>.</summary>
public sealed partial class PgDurableEventStoreOptions
{
    /// <summary>The schema holding the table; created if missing. Lowercase identifier.</summary>
    [Required(ErrorMessage = "{0} is required")]
    public string Schema { get; set; } = "public";

    /// <summary>The table name. Lowercase identifier (a-z, 0-9, _), at most 48 characters.</summary>
    [Required(ErrorMessage = "{0} is required")]
    public string TableName { get; set; } = "loop_durable_events";

    /// <summary>How <see cref="PgDurableEventStore.InsertBatchAsync"/> writes a batch.</summary>
    public PgBatchInsertMode BatchInsertMode { get; set; } = PgBatchInsertMode.ArrayInsert;

    /// <summary>
    /// Delete a row when it is marked delivered instead of setting <c>delivered_at</c> and purging it later: one write
    /// per delivery instead of two. On by default. Turn off to keep delivered rows (with <c>DisablePruning</c>) for
    /// analysis of creation and delivery times.
    /// </summary>
    public bool DeleteOnDelivery { get; set; } = true;

    /// <summary>
    /// Prepare the insert statements on each connection (Npgsql keeps them with the physical connection, so PostgreSQL
    /// parses and plans them once per connection instead of once per insert). On by default; ignored on a multiplexing
    /// data source. Turn off behind a connection pooler that does not keep prepared statements (PgBouncer in transaction
    /// mode before 1.21, or without <c>max_prepared_statements</c>).
    /// </summary>
    public bool PrepareStatements { get; set; } = true;

    /// <summary>Create or upgrade the schema when the store initializes. On by default.</summary>
    public bool CreateSchema { get; set; } = true;

    /// <summary>The rules (identifiers and the insert mode).</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(PgDurableEventStoreOptions options)
    {
        if (options.Schema is { Length: > 0 } && !Identifier().IsMatch(options.Schema))
        {
            yield return (nameof(Schema), $"\"{options.Schema}\" is not a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 48 characters)");
        }

        if (options.TableName is { Length: > 0 } && !Identifier().IsMatch(options.TableName))
        {
            yield return (nameof(TableName), $"\"{options.TableName}\" is not a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 48 characters)");
        }

        if (!Enum.IsDefined(options.BatchInsertMode))
        {
            yield return (nameof(BatchInsertMode), $"{options.BatchInsertMode} is not defined");
        }
    }

    [GeneratedRegex(@"^[a-z_][a-z0-9_]{0,47}\z")]
    private static partial Regex Identifier();
}

/// <summary>How the PostgreSQL store writes a batch of events.</summary>
public enum PgBatchInsertMode
{
    /// <summary>One <c>INSERT … SELECT FROM unnest(…)</c> (one row as <c>VALUES</c>): one round trip, one prepared statement for any batch size.</summary>
    ArrayInsert,

    /// <summary>
    /// Binary <c>COPY</c> for batches of two rows or more (one row is inserted as with <see cref="ArrayInsert"/>): two
    /// round trips, the cheapest per row. Measured against <see cref="ArrayInsert"/>: faster for small events at 64 callers, slower
    /// for 1 KiB events at 16 (docs/benchmarks.md).
    /// </summary>
    BinaryCopy,
}

/// <summary>The generated DataAnnotations validator of <see cref="PgDurableEventStoreOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class PgDurableEventStoreOptionsValidator : IValidateOptions<PgDurableEventStoreOptions>;
