namespace Loop.Visor;

/// <summary>A version could not be installed; nothing was placed in the home folder.</summary>
public class InstallException(string message, Exception? innerException = null) : Exception(message, innerException);

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
