using Microsoft.Extensions.Logging;

namespace Loop.Visor;

/// <summary>
/// Writes <c>visor-state.json</c>. The state is a record for operators: failing to write it is logged, and supervision
/// goes on.
/// </summary>
internal sealed class VisorStateRecorder(VisorHome home, ILogger logger)
{
    public void Update(Func<VisorState, VisorState> change)
    {
        try
        {
            VisorStateFile.Update(home, change);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or VisorHomeException)
        {
            VisorLog.StateNotWritten(logger, home.StatePath, ex.Message);
        }
    }
}
