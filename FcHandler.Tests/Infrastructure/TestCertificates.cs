using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FcHandler.Tests.Infrastructure;

/// <summary>A self-signed certificate for "localhost", made in memory: no system trust store is touched.</summary>
public static class TestCertificates
{
    public static X509Certificate2 Localhost()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Trusts exactly <paramref name="certificate"/>, as a system would trust a CA-issued one.</summary>
    public static RemoteCertificateValidationCallback Trusting(X509Certificate2 certificate)
        => (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
}
