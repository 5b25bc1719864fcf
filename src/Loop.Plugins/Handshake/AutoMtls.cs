using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Loop.Plugins;

/// <summary>
/// go-plugin's AutoMTLS certificates: each side makes a single-use ECDSA P-521 certificate (self-signed CA, CN and SAN
/// localhost, O=HashiCorp, client and server auth, random 128-bit serial, valid from 30 s ago for 262,980 hours) and
/// trusts exactly the other side's.
/// </summary>
public static class AutoMtls
{
    /// <summary>The variable carrying the host's certificate (PEM) to the plugin.</summary>
    public const string ClientCertVariable = "PLUGIN_CLIENT_CERT";

    /// <summary>Creates a certificate with its private key.</summary>
    public static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        var request = new CertificateRequest(new X500DistinguishedName("CN=localhost, O=HashiCorp"), key, HashAlgorithmName.SHA512);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyAgreement | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2"), new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddSeconds(-30), now.AddHours(262_980), serial);
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>The certificate as PEM (public part only), for <see cref="ClientCertVariable"/>.</summary>
    public static string ToPem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new string(PemEncoding.Write("CERTIFICATE", certificate.RawData));
    }

    /// <summary>True when <paramref name="presented"/> is exactly <paramref name="pinned"/>.</summary>
    public static bool IsPinned(X509Certificate? presented, byte[] pinned) =>
        presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(pinned);
}
