// Visor supervises POSIX processes (signals, executable bits, symlinks): these tests run on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
