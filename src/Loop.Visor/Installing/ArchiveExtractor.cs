using System.Formats.Tar;
using System.IO.Compression;

namespace Loop.Visor;

/// <summary>Unpacks zip and tar.gz release assets, refusing any entry that would leave the target folder.</summary>
internal static class ArchiveExtractor
{
    public static bool IsArchive(string name) =>
        name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    /// <summary>Unpacks <paramref name="archive"/> (named <paramref name="name"/>) into <paramref name="target"/>.</summary>
    /// <exception cref="UnsafeArchiveException">An entry escapes the folder or is a link.</exception>
    public static async Task ExtractAsync(string archive, string name, string target, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(target) + Path.DirectorySeparatorChar;
        if (name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            using var zip = ZipFile.OpenRead(archive);
            foreach (var entry in zip.Entries)
            {
                var path = Guard(root, name, entry.FullName);
                if (entry.FullName.EndsWith('/'))
                {
                    Directory.CreateDirectory(path);
                    continue;
                }

                // Unix mode lives in the high 16 bits of the external attributes; a symlink entry is refused.
                var mode = (entry.ExternalAttributes >> 16) & 0xFFFF;
                if ((mode & 0xF000) == 0xA000)
                {
                    throw new UnsafeArchiveException(name, entry.FullName);
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using (var source = entry.Open())
                await using (var destination = File.Create(path))
                {
                    await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
                }

                if ((mode & 0x1FF) != 0)
                {
                    File.SetUnixFileMode(path, (UnixFileMode)(mode & 0x1FF));
                }
            }

            return;
        }

        await using var file = File.OpenRead(archive);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(cancellationToken: cancellationToken).ConfigureAwait(false) is { } entry)
        {
            var path = Guard(root, name, entry.Name);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(path);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    await entry.ExtractToFileAsync(path, overwrite: false, cancellationToken).ConfigureAwait(false);
                    break;
                case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                    throw new UnsafeArchiveException(name, entry.Name);
                default:
                    break; // PAX headers and the like carry no files.
            }
        }
    }

    private static string Guard(string root, string asset, string entryName)
    {
        var path = Path.GetFullPath(Path.Combine(root, entryName));
        if (Path.IsPathRooted(entryName) || !path.StartsWith(root, StringComparison.Ordinal))
        {
            throw new UnsafeArchiveException(asset, entryName);
        }

        return path;
    }
}
