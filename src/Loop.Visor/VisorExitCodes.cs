namespace Loop.Visor;

/// <summary>The exit codes of <see cref="VisorService.RunAsync"/> and the <c>loop-visor</c> tool.</summary>
public static class VisorExitCodes
{
    /// <summary>Stopped on request (SIGINT, SIGTERM, cancellation); the processes were stopped gracefully.</summary>
    public const int Stopped = 0;

    /// <summary>Bad usage, or an invalid home folder, config file or run config.</summary>
    public const int ConfigError = 1;

    /// <summary>The set crashed more than <c>maxNumberOfRestarts</c> times.</summary>
    public const int MaxRestartsReached = 2;

    /// <summary>An upgrade could not be made (version folder missing and not installable).</summary>
    public const int UpgradeFailed = 3;

    /// <summary>The upgrade-status source failed more often than the connection retry limits allow.</summary>
    public const int UpgradeStatusUnreachable = 4;

    /// <summary>A binary is missing or not executable.</summary>
    public const int BinaryError = 5;

    /// <summary>An unexpected error ended Visor; the processes were stopped first, and the log names the error.</summary>
    public const int InternalError = 6;
}
