using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Loop.Plugins.Sdk;

/// <summary>
/// A plugin's tracing from its <c>CL_TRACING_*</c> settings: OTLP over gRPC to the collector target (TLS trusting the
/// given certificate when a path is set), a parent-based ratio sampler, server spans for incoming gRPC calls, and
/// resource attributes (service name, version, instance id, pid, and each <c>CL_TRACING_ATTRIBUTE_*</c>).
/// </summary>
internal static class PluginTracing
{
    public static void Add(IServiceCollection services, LoopTracingConfig tracing, IReadOnlyList<string> activitySources)
    {
        if (!tracing.Enabled || string.IsNullOrEmpty(tracing.CollectorTarget))
        {
            return;
        }

        var entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName();
        var attributes = tracing.Attributes.Select(a => new KeyValuePair<string, object>(a.Key, a.Value))
            .Append(new KeyValuePair<string, object>("process.pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
        var target = tracing.CollectorTarget.Contains("://", StringComparison.Ordinal)
            ? tracing.CollectorTarget
            : (tracing.TlsCertPath is null ? "http://" : "https://") + tracing.CollectorTarget;

        services.AddOpenTelemetry()
            .ConfigureResource(r => r
                .AddService(entry?.Name ?? "loop-plugin", serviceVersion: entry?.Version?.ToString(), serviceInstanceId: Guid.NewGuid().ToString())
                .AddAttributes(attributes))
            .WithTracing(t => t
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(tracing.SamplingRatio)))
                .AddAspNetCoreInstrumentation()
                .AddSource([.. activitySources])
                .AddOtlpExporter(o =>
                {
                    o.Endpoint = new Uri(target);
                    o.Protocol = OtlpExportProtocol.Grpc;
                    o.ExportProcessorType = ExportProcessorType.Batch;
                    if (tracing.TlsCertPath is { } certPath)
                    {
                        o.HttpClientFactory = () => new HttpClient(TrustOnly(certPath));
                    }
                }));
    }

    private static HttpClientHandler TrustOnly(string certificatePath)
    {
        var authority = X509CertificateLoader.LoadCertificateFromFile(certificatePath);
        return new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(authority);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            },
        };
    }
}
