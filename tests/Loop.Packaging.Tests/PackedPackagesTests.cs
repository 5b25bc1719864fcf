using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using Loop.Testing;

namespace Loop.Packaging.Tests;

/// <summary>
/// The packages as a user gets them: packed to a local folder, referenced with PackageReference by a fresh web host that
/// binds the emitter, the plugin host (with a plugin built from the packed SDK) and the visor from appsettings.json and imports the shipped .proto files from its own proto
/// with no path of its own; the host must build, start and answer /health, /metrics and /discovery.
/// </summary>
public sealed class PackedPackagesTests : IDisposable
{
    private static readonly string Repo = BuiltProgram.RepositoryRoot();
    private static readonly string[] Packages = ["Loop.Abstractions", "Loop.DurableEmitter", "Loop.Plugins", "Loop.Plugins.Sdk", "Loop.Visor", "Loop.Jobs", "Loop.Jobs.Ethereum"];
    private readonly MarkedFolder _folder = new("loop-consumer");

    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// The packing test packs with --no-build, so each package's project must be built before this test project: a
    /// solution test run builds and tests projects in parallel, and a package missing here was packed before it was
    /// built on a clean clone (NU5026, file not found), while a warm tree hid it.
    /// </summary>
    [Fact]
    public void Every_packed_library_is_built_before_the_tests_and_every_library_is_packed()
    {
        var referenced = XDocument.Load(Path.Combine(Repo, "tests", "Loop.Packaging.Tests", "Loop.Packaging.Tests.csproj"))
            .Descendants("ProjectReference")
            .Where(r => (string?)r.Attribute("ReferenceOutputAssembly") == "false")
            .Select(r => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!))
            .ToHashSet();
        referenced.Should().BeEquivalentTo(Packages, "each packed project is built before the tests pack it with --no-build");

        // Every library under src/ is packed here (the visor's tool package is packed as a tool and run by its own tests).
        var libraries = Directory.GetDirectories(Path.Combine(Repo, "src"))
            .Select(Path.GetFileName)
            .Where(name => File.Exists(Path.Combine(Repo, "src", name!, name + ".csproj")))
            .Where(name => !File.ReadAllText(Path.Combine(Repo, "src", name!, name + ".csproj")).Contains("<PackAsTool>true</PackAsTool>", StringComparison.Ordinal));
        libraries.Should().BeEquivalentTo(Packages);
    }

    [Fact]
    public async Task A_host_built_from_the_packed_packages_binds_its_configuration_and_serves_health_metrics_and_discovery()
    {
        var packs = Directory.CreateDirectory(Path.Combine(_folder.Path, "packs")).FullName;
        foreach (var project in Packages)
        {
            await RunAsync("dotnet", ["pack", Path.Combine(Repo, "src", project, project + ".csproj"), "-c", "Release", "--no-build", "-o", packs, "-nologo", "-nodeReuse:false"], Repo);
        }

        var loopVersions = Directory.GetFiles(packs, "*.nupkg")
            .Select(Path.GetFileNameWithoutExtension)
            .Select(n => (Id: n!.Split('.', 3) is var parts ? string.Join('.', n.Split('.').TakeWhile(p => !char.IsDigit(p[0]))) : n, File: n!))
            .ToDictionary(x => x.Id, x => x.File[(x.Id.Length + 1)..], StringComparer.Ordinal);
        loopVersions.Keys.Should().Contain(Packages);
        CheckNuspecs(packs, loopVersions);

        var central = XDocument.Load(Path.Combine(Repo, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!, StringComparer.Ordinal);
        var consumer = Directory.CreateDirectory(Path.Combine(_folder.Path, "consumer")).FullName;
        WriteConsumer(consumer, packs, loopVersions, central);
        var plugin = Directory.CreateDirectory(Path.Combine(_folder.Path, "plugin")).FullName;
        WritePlugin(plugin, packs, loopVersions);
        var home = WriteVisorHome(Path.Combine(_folder.Path, "visor"));

        // No MSBuild node or compiler server outlives the builds: the test leaves nothing running.
        await RunAsync("dotnet", ["build", "-c", "Release", "-nologo", "-v", "q", "-nodeReuse:false", "-p:UseSharedCompilation=false"], plugin);
        await RunAsync("dotnet", ["build", "-c", "Release", "-nologo", "-v", "q", "-nodeReuse:false", "-p:UseSharedCompilation=false"], consumer);

        // The package's Native AOT start settings reach a plugin that references it: libc linked directly except on
        // Windows; data kept undehydrated only in a fixed-address build (under PIE it would mean a relocation per pointer).
        (await NativeAotSettingsAsync(plugin, "linux-x64", "-p:PositionIndependentExecutable=false")).Should().Be(("false", true));
        (await NativeAotSettingsAsync(plugin, "linux-x64")).Should().Be((string.Empty, true));
        (await NativeAotSettingsAsync(plugin, "win-x64")).DirectLibc.Should().BeFalse();

        var port = FreePort.Next();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = consumer, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"));
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Loop__Emitter__Ingress__Endpoint"] = $"127.0.0.1:{FreePort.Next()}";
        start.Environment["Loop__Plugins__Instances__consumer__Command"] = Path.Combine(plugin, "bin", "Release", "net10.0", "Plugin");
        start.Environment["Loop__Visor__Home"] = home;
        start.Environment["LOOP_TEST_FOLDER"] = _folder.Path;
        using var host = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        host.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        host.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            string health = "";
            await Eventually.WaitAsync(
                async () =>
                {
                    if (host.HasExited)
                    {
                        throw new InvalidOperationException($"the consumer host exited with {host.ExitCode}: {output}");
                    }

                    try
                    {
                        health = await http.GetStringAsync("/health");
                        return true;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                "the consumer host's /health",
                TimeSpan.FromMinutes(1));
            // Healthy only when the emitter, the plugin (launched from the packed SDK) and the visor's genesis version all are.
            await Eventually.WaitAsync(async () => (health = await http.GetStringAsync("/health")) == "Healthy", "the consumer host to be Healthy", TimeSpan.FromMinutes(1));

            // Every Loop meter is on /metrics through the one AddLoopInstrumentation() call.
            var metrics = "";
            await Eventually.WaitAsync(
                async () =>
                {
                    metrics = await http.GetStringAsync("/metrics");
                    return new[] { "loop_emitter_", "loop_plugins_", "loop_visor_" }.All(m => metrics.Contains(m, StringComparison.Ordinal));
                },
                "every Loop meter's instruments on /metrics");
            metrics.Should().Contain("loop_emitter_queue_pending").And.Contain("loop_plugins_healthy").And.Contain("loop_visor_processes").And.Contain("loop_jobs_runs");

            using var discovery = JsonDocument.Parse(await http.GetStringAsync("/discovery"));
            discovery.RootElement[0].GetProperty("labels").GetProperty("__metrics_path__").GetString().Should().Be("/metrics");
            discovery.RootElement.EnumerateArray().Select(g => g.GetProperty("labels").GetProperty("__metrics_path__").GetString())
                .Should().Contain("/plugins/consumer/metrics");

            // The consumer's own proto imported both shipped protos and compiled against the packages' types.
            (await http.GetStringAsync("/proto")).Should().Be("loop.consumer.v1.Envelope carries io.cloudevents.v1.CloudEvent");
        }
        finally
        {
            // A graceful stop, as a service manager does it: the host stops the plugin and the visor's processes itself
            // (disposing the folder fails the test when any of them still runs).
            using (var term = Process.Start("kill", ["-TERM", host.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await term.WaitForExitAsync();
            }

            try
            {
                await host.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                host.Kill(entireProcessTree: true);
                await host.WaitForExitAsync();
                throw;
            }
        }
    }

    private static void WriteConsumer(string folder, string packs, IReadOnlyDictionary<string, string> loop, IReadOnlyDictionary<string, string> central)
    {
        string Ref(string id) => $"    <PackageReference Include=\"{id}\" Version=\"{(loop.TryGetValue(id, out var v) ? v : central[id])}\" />";
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packs}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Loop.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        // A folder of its own: nothing of the repository's build (central versions, analyzers) applies.
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <!-- The Loop packages land in a folder of this run's own (a shared cache keeps the first package of a
                     version forever, so a later pack would go untested); everything else comes from the shared cache. -->
                <RestorePackagesPath>{Path.Combine(folder, "packages")}</RestorePackagesPath>
                <RestoreFallbackFolders>{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")}</RestoreFallbackFolders>
              </PropertyGroup>
              <ItemGroup>
            {Ref("Loop.DurableEmitter")}
            {Ref("Loop.Plugins")}
            {Ref("Loop.Visor")}
            {Ref("Loop.Jobs")}
            {Ref("Loop.Jobs.Ethereum")}
            {Ref("OpenTelemetry.Extensions.Hosting")}
            {Ref("OpenTelemetry.Exporter.Prometheus.AspNetCore")}
            {Ref("Grpc.Tools").Replace(" />", " PrivateAssets=\"all\" />", StringComparison.Ordinal)}
              </ItemGroup>
              <ItemGroup>
                <Protobuf Include="envelope.proto" GrpcServices="None" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "envelope.proto"), """
            syntax = "proto3";
            package loop.consumer.v1;
            option csharp_namespace = "Consumer.V1";
            import "io/cloudevents/v1/cloudevent.proto";
            import "chipingress/chip_ingress.proto";
            import "plugin/grpc_broker.proto";
            message Envelope {
              io.cloudevents.v1.CloudEvent event = 1;
            }
            """);
        File.WriteAllText(Path.Combine(folder, "appsettings.json"), """
            {
              "Logging": { "LogLevel": { "Default": "Warning" } },
              "Loop": {
                "Emitter": { "EventTtl": "01:00:00", "RetransmitAfter": "00:00:10", "Ingress": { "Endpoint": "127.0.0.1:1", "BatchSize": 50 } },
                "Plugins": {
                  "FirstPort": 26600, "LastPort": 26699, "Tracing": { "Enabled": false },
                  "Instances": { "consumer": { "KeepAliveInterval": "00:00:01", "HealthTimeout": "00:00:05" } }
                },
                "Visor": { "Service": { "PollInterval": "00:00:01" } },
                "Jobs": { "MaxConcurrentRuns": 4 }
              }
            }
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using Loop.Plugins;
            using OpenTelemetry.Metrics;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddDurableEmitter(builder.Configuration.GetSection("Loop:Emitter"))
                .UseInMemoryStore()
                .UseGrpcIngress(builder.Configuration.GetSection("Loop:Emitter:Ingress"));
            builder.Services.AddLoopPlugins(builder.Configuration.GetSection("Loop:Plugins"))
                .AddPlugin("consumer", builder.Configuration.GetSection("Loop:Plugins:Instances:consumer"), new HandshakeConfig("CONSUMER_PLUGIN", "packed", [1]));
            builder.Services.AddVisor(builder.Configuration.GetSection("Loop:Visor"));
            var jobs = builder.Services.AddLoopJobs(builder.Configuration.GetSection("Loop:Jobs")).UseInMemoryStore();
            if (builder.Configuration.GetSection("Loop:Jobs:Ethereum").Exists())
            {
                jobs.UseEthereum(builder.Configuration.GetSection("Loop:Jobs:Ethereum"));
            }

            builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddLoopInstrumentation().AddPrometheusExporter());
            var app = builder.Build();
            app.MapHealthChecks("/health");
            app.MapPrometheusScrapingEndpoint();
            app.MapLoopPluginEndpoints();
            app.MapLoopJobs();
            app.MapGet("/proto", () => $"{Consumer.V1.Envelope.Descriptor.FullName} carries {Consumer.V1.Envelope.Descriptor.Fields[1].MessageType.FullName}");
            app.Run();
            """);
    }

    /// <summary>Each nuspec: repository and project URLs, its own tags, README, license, CHANGELOG and symbols; the host package takes no prerelease exporter.</summary>
    private static void CheckNuspecs(string packs, IReadOnlyDictionary<string, string> versions)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in Packages)
        {
            var file = Path.Combine(packs, $"{id}.{versions[id]}.nupkg");
            File.Exists(Path.ChangeExtension(file, ".snupkg")).Should().BeTrue($"{id} packs its symbols");
            using var zip = System.IO.Compression.ZipFile.OpenRead(file);
            zip.Entries.Select(e => e.FullName).Should().Contain(["README.md", "LICENSE", "CHANGELOG.md"], $"{id} packs its README, license and CHANGELOG");
            using var stream = zip.GetEntry($"{id}.nuspec")!.Open();
            var nuspec = XDocument.Load(stream);
            string Meta(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            var repository = nuspec.Descendants().Single(e => e.Name.LocalName == "repository");
            ((string?)repository.Attribute("url")).Should().StartWith("https://", $"{id}'s nuspec names its repository");
            Meta("projectUrl").Should().EndWith("/src/" + id, $"{id}'s project URL is its own folder");
            Meta("tags").Should().NotBeEmpty();
            tags.Should().NotContainValue(Meta("tags"), $"{id} has tags of its own");
            tags[id] = Meta("tags");
            Meta("readme").Should().Be("README.md");
            Meta("license").Should().Be("MIT");

            var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToList();
            if (id == "Loop.Plugins")
            {
                versions[id].Should().NotContain("-", "the host side is a stable package");
                dependencies.Should().NotContain(d => d.StartsWith("OpenTelemetry.Exporter", StringComparison.Ordinal) || d.StartsWith("OpenTelemetry.Instrumentation", StringComparison.Ordinal),
                    "a host that only launches plugins takes no exporter and no OTLP");
            }

            if (id == "Loop.Plugins.Sdk")
            {
                dependencies.Should().Contain("Loop.Plugins").And.Contain("OpenTelemetry.Exporter.Prometheus.AspNetCore");
                zip.Entries.Select(e => e.FullName).Should().Contain(["build/Loop.Plugins.Sdk.props", "buildTransitive/Loop.Plugins.Sdk.props", "build/Loop.Plugins.Sdk.targets", "buildTransitive/Loop.Plugins.Sdk.targets"],
                    "a plugin that references the SDK gets its Native AOT start settings");
            }
        }
    }

    /// <summary>A plugin built from the packed SDK alone: the go-plugin protocol, health, nothing of its own.</summary>
    private static void WritePlugin(string folder, string packs, IReadOnlyDictionary<string, string> loop)
    {
        File.Copy(Path.Combine(packs, "..", "consumer", "nuget.config"), Path.Combine(folder, "nuget.config"));
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Plugin.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RestorePackagesPath>{Path.Combine(folder, "packages")}</RestorePackagesPath>
                <RestoreFallbackFolders>{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")}</RestoreFallbackFolders>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Loop.Plugins.Sdk" Version="{loop["Loop.Plugins.Sdk"]}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using Loop.Plugins;
            using Loop.Plugins.Sdk;

            return await LoopPluginServer.RunAsync(new LoopPluginServerOptions { Handshake = new HandshakeConfig("CONSUMER_PLUGIN", "packed", [1]) });
            """);
    }

    /// <summary>A Visor home whose genesis version is one long-running script (marked, so a leak is found).</summary>
    private string WriteVisorHome(string home)
    {
        var genesis = Directory.CreateDirectory(Path.Combine(home, "genesis")).FullName;
        File.WriteAllText(Path.Combine(home, "config.toml"), "stopSignalTimeoutSeconds = 5\n");
        var node = Path.Combine(genesis, "node.sh");
        File.WriteAllText(node, $"#!/bin/sh\nexport LOOP_TEST_FOLDER='{_folder.Path}'\nexec sleep 600\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(node, (UnixFileMode)0b111_101_101);
        }

        File.WriteAllText(Path.Combine(genesis, "run-config.toml"), "name = \"genesis\"\n[node.binary]\npath = \"node.sh\"\n");
        return home;
    }

    private static async Task<string> RunAsync(string file, string[] args, string directory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        process.ExitCode.Should().Be(0, $"{file} {string.Join(' ', args)} failed:\n{await stdout}\n{await stderr}");
        return await stdout;
    }

    /// <summary>What the packed SDK's build files set in a plugin project for a runtime (evaluated, not built).</summary>
    private static async Task<(string Dehydrate, bool DirectLibc)> NativeAotSettingsAsync(string plugin, string runtime, params string[] properties)
    {
        var json = await RunAsync("dotnet", ["msbuild", "-nologo", "-nodeReuse:false", $"-p:RuntimeIdentifier={runtime}", .. properties, "-getProperty:IlcDehydrate", "-getItem:DirectPInvoke"], plugin);
        using var evaluated = System.Text.Json.JsonDocument.Parse(json);
        var dehydrate = evaluated.RootElement.GetProperty("Properties").GetProperty("IlcDehydrate").GetString() ?? string.Empty;
        var direct = evaluated.RootElement.GetProperty("Items").GetProperty("DirectPInvoke").EnumerateArray().Any(i => i.GetProperty("Identity").GetString() == "libc");
        return (dehydrate, direct);
    }
}
