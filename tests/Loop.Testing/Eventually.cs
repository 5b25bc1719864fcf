namespace Loop.Testing;

/// <summary>Waits for a condition with a deadline instead of sleeping a fixed time.</summary>
public static class Eventually
{
    /// <summary>The default deadline: generous, because CI machines are slow; a passing test returns long before it.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> until it holds; throws <see cref="TimeoutException"/> with <paramref name="what"/> otherwise.</summary>
    public static async Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        await WaitAsync(() => Task.FromResult(condition()), what, timeout);
    }

    /// <summary>Polls an asynchronous <paramref name="condition"/> until it holds.</summary>
    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)((timeout ?? DefaultTimeout).TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (!await condition())
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout ?? DefaultTimeout} waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }
}
