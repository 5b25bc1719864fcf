using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Loop.Visor;

/// <summary>
/// Installs a missing version from its release: finds the asset (a GitHub-releases compatible API or a URL template),
/// downloads it, verifies its SHA-256 <b>before</b> anything is unpacked, unpacks zip or tar.gz with a guard against
/// entries leaving the folder, derives the run config from the running version's, and only then moves the finished
/// folder into place. A failed install leaves nothing behind.
/// </summary>
public sealed partial class ReleaseInstaller(HttpClient http)
{
    /// <summary>The OS name in templates (<c>linux</c>, <c>darwin</c>, <c>windows</c>).</summary>
    public static string Os => OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "darwin" : "windows";

    /// <summary>The architecture name in templates (<c>amd64</c>, <c>arm64</c>).</summary>
    public static string Arch => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>Installs <paramref name="tag"/> into its version folder and returns the folder.</summary>
    /// <exception cref="InvalidReleaseTagException">The tag is not a plain version name.</exception>
    /// <exception cref="InstallException">Disabled, not found, checksum missing or wrong, unsafe archive, no binary.</exception>
    public async Task<string> InstallAsync(VisorHome home, VisorConfig config, string tag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(config);
        var folder = home.VersionFolder(tag, config);
        var auto = config.AutoInstall;
        if (!auto.Enabled)
        {
            throw new InstallException($"version {tag} is not installed and autoInstall.enabled is false");
        }

        if (Directory.Exists(folder))
        {
            throw new InstallException($"{folder} already exists");
        }

        var (assetName, assetUrl, assets) = await FetchAsync(null, "the release", token => ResolveAssetAsync(auto, tag, token), cancellationToken).ConfigureAwait(false);
        var expected = await FetchAsync(null, "the checksum", token => ExpectedChecksumAsync(auto, tag, assetName, assets, token), cancellationToken).ConfigureAwait(false);
        var staging = Path.Combine(home.Root, $".install-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var download = Path.Combine(staging, ".download");
            var actual = await FetchAsync(assetUrl, "the download", token => DownloadAsync(assetUrl, download, token), cancellationToken).ConfigureAwait(false);
            if (expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            {
                throw new ChecksumMismatchException(assetName, expected, actual);
            }

            string binary;
            if (ArchiveExtractor.IsArchive(assetName))
            {
                await ArchiveExtractor.ExtractAsync(download, assetName, staging, cancellationToken).ConfigureAwait(false);
                File.Delete(download);
                binary = FindBinary(staging, auto.BinaryName.Length > 0 ? Fill(auto.BinaryName, tag) : null, assetName);
            }
            else
            {
                binary = auto.BinaryName.Length > 0 ? Fill(auto.BinaryName, tag) : assetName;
                File.Move(download, Path.Combine(staging, binary));
            }

            VersionInstaller.WriteDerivedRunConfig(home, staging, tag, binary);
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
            Directory.Move(staging, folder);
            return folder;
        }
        catch (IOException ex)
        {
            DeleteStaging(staging);
            throw new InstallException($"installing {tag} into {folder} failed: {ex.Message}", ex);
        }
        catch
        {
            DeleteStaging(staging);
            throw;
        }
    }

    private static void DeleteStaging(string staging)
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Runs one step that talks to the release server within the client's timeout, the body included (HttpClient's own
    /// timeout ends at the response headers when the body is streamed), and turns every way it can fail into an
    /// <see cref="InstallException"/> that names the step and the URL. Only the caller's cancellation passes through.
    /// </summary>
    private async Task<T> FetchAsync<T>(Uri? url, string what, Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (http.Timeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(http.Timeout);
        }

        var where = url is null ? string.Empty : $" ({url})";
        try
        {
            return await step(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw new InstallException($"{what}{where} did not finish within {http.Timeout.TotalSeconds:0.#} s; the release server is stalled or too slow", ex, isTransient: true);
        }
        catch (HttpRequestException ex)
        {
            throw new InstallException($"{what}{where} failed: {ex.Message}", ex, isTransient: true);
        }
        catch (JsonException ex)
        {
            throw new InstallException($"{what}{where}: the release server did not answer with JSON ({ex.Message}); check autoInstall.releaseApiUrl", ex, isTransient: true);
        }
        catch (Exception ex) when (ex is NotSupportedException or UriFormatException or ArgumentException or InvalidOperationException)
        {
            throw new InstallException($"{what}{where}: unsupported or invalid URL ({ex.Message})", ex);
        }
        catch (IOException ex)
        {
            throw new InstallException($"{what}{where} failed: {ex.Message}", ex, isTransient: true);
        }
    }

    private static string Fill(string template, string tag) =>
        template.Replace("{tag}", tag, StringComparison.Ordinal).Replace("{os}", Os, StringComparison.Ordinal).Replace("{arch}", Arch, StringComparison.Ordinal);

    private async Task<(string Name, Uri Url, IReadOnlyDictionary<string, Uri> Assets)> ResolveAssetAsync(AutoInstallConfig auto, string tag, CancellationToken cancellationToken)
    {
        if (auto.AssetUrlTemplate.Length > 0)
        {
            var url = new Uri(Fill(auto.AssetUrlTemplate, tag));
            return (auto.AssetName.Length > 0 ? Fill(auto.AssetName, tag) : Path.GetFileName(url.LocalPath), url, new Dictionary<string, Uri>());
        }

        var releaseUrl = new Uri($"{auto.ReleaseApiUrl.TrimEnd('/')}/releases/tags/{Uri.EscapeDataString(tag)}");
        using var response = await http.GetAsync(releaseUrl, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InstallException($"release {tag} not found at {releaseUrl} ({(int)response.StatusCode})", isTransient: (int)response.StatusCode >= 500);
        }

        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        var assets = new Dictionary<string, Uri>(StringComparer.Ordinal);
        if (json.RootElement.TryGetProperty("assets", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var asset in list.EnumerateArray())
            {
                if (asset.TryGetProperty("name", out var n) && asset.TryGetProperty("browser_download_url", out var u) && n.GetString() is { } name && Uri.TryCreate(u.GetString(), UriKind.Absolute, out var uri))
                {
                    assets[name] = uri;
                }
            }
        }

        var wanted = Fill(auto.AssetName, tag);
        return assets.TryGetValue(wanted, out var assetUrl)
            ? (wanted, assetUrl, assets)
            : throw new InstallException($"release {tag} has no asset named {wanted}");
    }

    private async Task<string?> ExpectedChecksumAsync(AutoInstallConfig auto, string tag, string assetName, IReadOnlyDictionary<string, Uri> assets, CancellationToken cancellationToken)
    {
        var source = auto.Checksum;
        if (source.Length == 0)
        {
            return auto.UnsafeAllowMissingChecksum
                ? null
                : throw new InstallException($"no checksum is configured for {assetName}; refusing to install (autoInstall.checksum, or autoInstall.unsafeAllowMissingChecksum)");
        }

        if (source.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            return RequireHash(source["sha256:".Length..], assetName);
        }

        var url = assets.TryGetValue(Fill(source, tag), out var assetUrl) ? assetUrl
            : Uri.TryCreate(Fill(source, tag), UriKind.Absolute, out var direct) ? direct
            : throw new InstallException($"the checksum source {source} is neither a release asset nor a URL");
        var text = await http.GetStringAsync(url, cancellationToken).ConfigureAwait(false);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 1 || parts[1].TrimStart('*') == assetName)
            {
                return RequireHash(parts[0], assetName);
            }
        }

        throw new InstallException($"{url} lists no checksum for {assetName}");
    }

    private static string RequireHash(string hex, string assetName) =>
        Sha256Hex().IsMatch(hex) ? hex.ToLowerInvariant() : throw new InstallException($"the checksum for {assetName} is not a SHA-256 hex digest");

    private async Task<string> DownloadAsync(Uri url, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InstallException($"downloading {url} failed ({(int)response.StatusCode})", isTransient: (int)response.StatusCode >= 500);
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var file = File.Create(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string FindBinary(string staging, string? binaryName, string assetName)
    {
        var files = Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).ToList();
        var match = binaryName is null
            ? files.Count == 1 ? files[0] : null
            : files.FirstOrDefault(f => Path.GetRelativePath(staging, f) == binaryName) ?? files.FirstOrDefault(f => Path.GetFileName(f) == binaryName);
        return match is null
            ? throw new InstallException(binaryName is null ? $"{assetName} holds {files.Count} files; set autoInstall.binaryName" : $"{assetName} has no {binaryName}")
            : Path.GetRelativePath(staging, match);
    }

    [GeneratedRegex(@"^[0-9a-fA-F]{64}\z")]
    private static partial Regex Sha256Hex();
}
