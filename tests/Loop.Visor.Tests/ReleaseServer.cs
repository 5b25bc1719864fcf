using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Loop.Visor.Tests;

/// <summary>How <see cref="ReleaseServer"/> misbehaves.</summary>
public enum ReleaseServerFault
{
    None,
    Html,
    StallDownloads,
}

/// <summary>A GitHub-releases compatible server on 127.0.0.1 serving assets the test builds.</summary>
public sealed class ReleaseServer : IAsyncDisposable
{
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _releases = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public int Port { get; } = FreePort.Next();

    public string ApiUrl => $"http://127.0.0.1:{Port}/repos/loop/node";

    public string DownloadUrl(string name) => $"http://127.0.0.1:{Port}/download/{name}";

    public int Downloads { get; private set; }

    /// <summary>How the server misbehaves: answer the release API with an HTML page, or stall downloads after the headers.</summary>
    public ReleaseServerFault Fault { get; set; }

    /// <summary>Completed when a stalled download has sent its headers (the client is now waiting for the body).</summary>
    public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<ReleaseServer> StartAsync()
    {
        var server = new ReleaseServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, server.Port));
        var app = builder.Build();
        app.MapGet("/repos/loop/node/releases/tags/{tag}", (string tag) =>
            server.Fault == ReleaseServerFault.Html
                ? Results.Content("<!DOCTYPE html><html><body>Rate limited, try later</body></html>", "text/html")
                : server._releases.TryGetValue(tag, out var assets)
                ? Results.Json(new { tag_name = tag, assets = assets.Select(a => new { name = a, browser_download_url = server.DownloadUrl(a) }) })
                : Results.NotFound());
        app.MapGet("/download/{name}", async (string name, HttpContext context) =>
        {
            server.Downloads++;
            if (server.Fault == ReleaseServerFault.StallDownloads)
            {
                // Headers and a first chunk, then nothing until the client gives up.
                context.Response.ContentLength = 1 << 20;
                await context.Response.Body.WriteAsync(new byte[1024], context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                server.Stalled.TrySetResult();
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            }

            if (server._files.TryGetValue(name, out var bytes))
            {
                await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        });
        await app.StartAsync();
        server._app = app;
        return server;
    }

    /// <summary>Publishes a release with the given assets (name → bytes).</summary>
    public void Publish(string tag, params (string Name, byte[] Bytes)[] assets)
    {
        _releases[tag] = [.. assets.Select(a => a.Name)];
        foreach (var (name, bytes) in assets)
        {
            _files[name] = bytes;
        }
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public static byte[] SumsFile(params (string Name, byte[] Bytes)[] files) =>
        System.Text.Encoding.UTF8.GetBytes(string.Concat(files.Select(f => $"{Sha256(f.Bytes)}  {f.Name}\n")));

    /// <summary>A tar.gz holding executable scripts (path → body).</summary>
    public static byte[] TarGz(params (string Path, string Body)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var (path, body) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path)
                {
                    Mode = (UnixFileMode)0b111_101_101,
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("#!/bin/sh\n" + body + "\n")),
                };
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A zip with the given entries (names are used as they are, "../" included).</summary>
    public static byte[] Zip(params (string Path, string Body)[] files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, body) in files)
            {
                var entry = zip.CreateEntry(path);
                entry.ExternalAttributes = 0b111_101_101 << 16;
                using var writer = new StreamWriter(entry.Open());
                writer.Write("#!/bin/sh\n" + body + "\n");
            }
        }

        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
