// Visor supervises POSIX processes (signals, executable bits, symlinks, rename(2)).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("macos")]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("freebsd")]
