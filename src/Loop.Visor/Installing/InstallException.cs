namespace Loop.Visor;

/// <summary>A version could not be installed; nothing was placed in the home folder.</summary>
/// <param name="message">What failed, naming the URL or file.</param>
/// <param name="innerException">The underlying error, if any.</param>
/// <param name="isTransient">The failure may pass by itself (the release server was unreachable, slow or failing):
/// the upgrade is tried again later rather than refused for good.</param>
public class InstallException(string message, Exception? innerException = null, bool isTransient = false) : Exception(message, innerException)
{
    /// <summary>Whether the failure may pass by itself (network, timeout, a server error), so the version is not refused for good.</summary>
    public bool IsTransient { get; } = isTransient;
}

/// <summary>The downloaded asset's SHA-256 is not the expected one; it was deleted unopened.</summary>
public sealed class ChecksumMismatchException(string asset, string expected, string actual)
    : InstallException($"checksum mismatch for {asset}: expected sha256 {expected}, got {actual}; the download was deleted")
{
    /// <summary>The asset name.</summary>
    public string Asset { get; } = asset;
}

/// <summary>An archive entry would land outside the version folder (zip-slip), or is a link; the archive was refused.</summary>
public sealed class UnsafeArchiveException(string asset, string entry)
    : InstallException($"{asset}: entry \"{entry}\" would be written outside the version folder (or is a link); the archive was refused");
