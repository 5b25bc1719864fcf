using System.Diagnostics;

namespace Loop.Testing;

/// <summary>
/// Builds the interop Go plugin and Go host from source during the test run (nothing is committed as a binary), in
/// GOPATH mode against Debian's go-plugin 1.0.1. Installs the Debian packages first when they are missing and the run
/// is root; otherwise fails saying what to install.
/// </summary>
public static class GoToolchain
{
    private static readonly string[] Packages = ["golang-go", "golang-github-hashicorp-go-plugin-dev", "golang-google-grpc-dev", "golang-goprotobuf-dev", "protobuf-compiler"];
    private static readonly Lazy<Task<(string Plugin, string Host)>> Built = new(BuildAsync);

    /// <summary>The built Go plugin and Go host.</summary>
    public static Task<(string Plugin, string Host)> BuildOnceAsync() => Built.Value;

    private static async Task<(string Plugin, string Host)> BuildAsync()
    {
        await EnsureInstalledAsync();
        var root = ProcessScratch.Create("loop-go");
        var src = Path.Combine(root, "src", "loopinterop");
        var here = Path.Combine(AppContext.BaseDirectory, "GoInterop");
        foreach (var part in new[] { "echo", "goplugin", "gohost" })
        {
            Directory.CreateDirectory(Path.Combine(src, part));
        }

        File.Copy(Path.Combine(here, "goplugin", "main.go"), Path.Combine(src, "goplugin", "main.go"), overwrite: true);
        File.Copy(Path.Combine(here, "gohost", "main.go"), Path.Combine(src, "gohost", "main.go"), overwrite: true);
        File.Copy(Path.Combine(here, "echo.proto"), Path.Combine(src, "echo", "echo.proto"), overwrite: true);
        await RunAsync("protoc", ["--go_out=plugins=grpc:.", "echo.proto"], Path.Combine(src, "echo"), root);

        var bin = Path.Combine(root, "bin");
        Directory.CreateDirectory(bin);
        await RunAsync("go", ["build", "-o", Path.Combine(bin, "goplugin"), "loopinterop/goplugin"], src, root);
        await RunAsync("go", ["build", "-o", Path.Combine(bin, "gohost"), "loopinterop/gohost"], src, root);
        return (Path.Combine(bin, "goplugin"), Path.Combine(bin, "gohost"));
    }

    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists("/usr/bin/go") && Directory.Exists("/usr/share/gocode/src/github.com/hashicorp/go-plugin") && File.Exists("/usr/bin/protoc-gen-go"))
        {
            return;
        }

        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException($"The Go interop tests need Debian's packages: sudo apt-get install -y {string.Join(' ', Packages)}");
        }

        await RunAsync("apt-get", ["update", "-qq"], "/", null);
        await RunAsync("apt-get", ["install", "-y", "-qq", .. Packages], "/", null);
    }

    private static async Task RunAsync(string file, string[] args, string directory, string? gopath)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (gopath is not null)
        {
            // GOPATH mode: module mode never reads /usr/share/gocode.
            start.Environment["GO111MODULE"] = "off";
            start.Environment["GOPATH"] = $"{gopath}:/usr/share/gocode";
            start.Environment["GOPROXY"] = "off";
            start.Environment["GOCACHE"] = Path.Combine(gopath, "gocache");
        }

        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr} {await stdout}");
        }
    }
}
