using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Loop.Jobs.Stores.Postgres;

/// <summary>Where the PostgreSQL job store keeps its tables.</summary>
public sealed partial class PgJobStoreOptions
{
    /// <summary>The default of <see cref="Schema"/>.</summary>
    public const string DefaultSchema = "public";

    /// <summary>The default of <see cref="TablePrefix"/>.</summary>
    public const string DefaultTablePrefix = "loop_jobs";

    /// <summary>The schema (created when missing). Default <see cref="DefaultSchema"/>.</summary>
    [Required]
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>The tables' common prefix (<c>&lt;prefix&gt;_runs</c>, …). Default <see cref="DefaultTablePrefix"/>.</summary>
    [Required]
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    internal static IEnumerable<(string Member, string Error)> Rules(PgJobStoreOptions options)
    {
        if (options.Schema is { Length: > 0 } && !Identifier().IsMatch(options.Schema))
        {
            yield return (nameof(Schema), $"\"{options.Schema}\" is not a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 40 characters)");
        }

        if (options.TablePrefix is { Length: > 0 } && !Identifier().IsMatch(options.TablePrefix))
        {
            yield return (nameof(TablePrefix), $"\"{options.TablePrefix}\" is not a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 40 characters)");
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$")]
    private static partial Regex Identifier();
}

[OptionsValidator]
internal sealed partial class PgJobStoreOptionsValidator : IValidateOptions<PgJobStoreOptions>;
