namespace Loop.DurableEmitter;

/// <summary>Runs the application's <see cref="DurableEmitterHooks"/>: instrumentation must never break delivery.</summary>
internal static class SafeHooks
{
    public static void Invoke<T1, T2>(Action<T1, T2>? hook, T1 first, T2 second)
    {
        if (hook is not null)
        {
            Invoke(() => hook(first, second));
        }
    }

    public static void Invoke(Action hook)
    {
        try
        {
            hook();
        }
        catch (Exception)
        {
            // An application's hook that throws is its own bug; the event's delivery goes on.
        }
    }
}
