using Loop.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Visor.Tests;

/// <summary>Moves a fake clock on a step at a time until a condition holds (Visor polls every 2 s).</summary>
public static class FakeClock
{
    public static Task AdvanceUntilAsync(this FakeTimeProvider time, Func<bool> condition, string what, TimeSpan? step = null) =>
        Eventually.WaitAsync(
            () =>
            {
                if (condition())
                {
                    return true;
                }

                time.Advance(step ?? TimeSpan.FromSeconds(2));
                return false;
            },
            what);
}
