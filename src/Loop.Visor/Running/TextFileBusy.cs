using System.ComponentModel;

namespace Loop.Visor.Running;

/// <summary>
/// Retries a process start that failed with ETXTBSY: a binary just written (an install, an upgrade, a hook) can still be
/// open for writing in a child that another thread forked and that has not exec'd yet. The race is the OS's, so the
/// waits are real time.
/// </summary>
internal static class TextFileBusy
{
    private const int ErrorCode = 26;

    public static async Task<T> RetryAsync<T>(Func<T> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return start();
            }
            catch (Win32Exception ex) when (ex.NativeErrorCode == ErrorCode && attempt < 10)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt)).ConfigureAwait(false);
            }
        }
    }
}
