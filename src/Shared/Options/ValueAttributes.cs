using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Loop.Options;

/// <summary>A duration above zero; the error names the member and the value it had.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class PositiveAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) => value switch
    {
        TimeSpan span when span <= TimeSpan.Zero => Fail(validationContext, "must be positive", value),
        int number when number <= 0 => Fail(validationContext, "must be positive", value),
        long number when number <= 0 => Fail(validationContext, "must be positive", value),
        double number when !(number > 0) => Fail(validationContext, "must be positive", value),
        _ => ValidationResult.Success,
    };

    internal static ValidationResult Fail(ValidationContext context, string rule, object? value) =>
        new($"{context.DisplayName} {rule} (was {Convert.ToString(value, CultureInfo.InvariantCulture)})", context.MemberName is { } member ? [member] : []);
}

/// <summary>A duration of zero or more; the error names the member and the value it had.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class NotNegativeAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) => value switch
    {
        TimeSpan span when span < TimeSpan.Zero => PositiveAttribute.Fail(validationContext, "must not be negative", value),
        int number when number < 0 => PositiveAttribute.Fail(validationContext, "must not be negative", value),
        long number when number < 0 => PositiveAttribute.Fail(validationContext, "must not be negative", value),
        _ => ValidationResult.Success,
    };
}

/// <summary>A number in [<paramref name="minimum"/>, <paramref name="maximum"/>]; the error names the member, the range and the value it had.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class BetweenAttribute(double minimum, double maximum) : ValidationAttribute
{
    public double Minimum { get; } = minimum;

    public double Maximum { get; } = maximum;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        var number = value switch
        {
            int i => i,
            long l => l,
            double d => d,
            _ => (double?)null,
        };
        return number is { } n && !(n >= Minimum && n <= Maximum)
            ? PositiveAttribute.Fail(validationContext, string.Create(CultureInfo.InvariantCulture, $"must be {Minimum} to {Maximum}"), value)
            : ValidationResult.Success;
    }
}
