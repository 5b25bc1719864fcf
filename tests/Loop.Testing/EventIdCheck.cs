using System.Reflection;

namespace Loop.Testing;

/// <summary>Checks a package's event id constants: one per message, no two alike (they share every category the package logs under).</summary>
public static class EventIdCheck
{
    /// <summary>The constants of <paramref name="eventIds"/> that share a value with another, by value; empty when all differ.</summary>
    public static IReadOnlyDictionary<int, string[]> Duplicates(Type eventIds) =>
        eventIds.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .GroupBy(f => (int)f.GetRawConstantValue()!)
            .Where(g => g.Count() > 1)
            .ToDictionary(g => g.Key, g => g.Select(f => f.Name).ToArray());

    /// <summary>How many constants <paramref name="eventIds"/> has.</summary>
    public static int Count(Type eventIds) =>
        eventIds.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Count(f => f.IsLiteral && f.FieldType == typeof(int));

    /// <summary>The values of <paramref name="eventIds"/>' constants.</summary>
    public static IReadOnlyList<int> Values(Type eventIds) =>
        [.. eventIds.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .Select(f => (int)f.GetRawConstantValue()!)];
}
