using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FcHandler.Hosting;

namespace FcHandler.Proxy;

/// <summary>
/// Checks the upstream's TLS certificate as .NET does (chain and host name), against the system's trusted roots or,
/// with <c>UPSTREAM_CA_FILE</c>, against those roots only. A refusal throws <see cref="UpstreamCertificateException"/>
/// naming the problem, so the client's error and the log say which certificate failed and why rather than "the SSL
/// connection could not be established". Runs once per TLS handshake, never per request.
/// </summary>
internal sealed class UpstreamCertificateCheck(string host, X509Certificate2Collection? trustedRoots)
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var status = chain?.ChainStatus ?? [];

        // Private roots replace the system's: the chain is built again against them alone, with the intermediates the
        // upstream sent. A chain of its own per handshake, so concurrent handshakes share nothing mutable.
        if (trustedRoots is not null && certificate is X509Certificate2 leaf)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(trustedRoots);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // as .NET's default check: no network fetch
            custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
            if (chain is not null)
            {
                custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
                foreach (var element in chain.ChainElements)
                {
                    custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            var trusted = custom.Build(leaf);
            status = custom.ChainStatus;
            errors = (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) | (trusted ? 0 : SslPolicyErrors.RemoteCertificateChainErrors);
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        throw new UpstreamCertificateException(Describe(certificate as X509Certificate2, errors, status));
    }

    private string Describe(X509Certificate2? certificate, SslPolicyErrors errors, X509ChainStatus[] status)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "the upstream sent no certificate";
        }

        var problems = new List<string>(2);
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            problems.Add($"the certificate is for {certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false)}, not for {host}");
        }

        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            problems.Add(DescribeChain(certificate, status));
        }

        return string.Join("; ", problems);
    }

    private static string DescribeChain(X509Certificate2 certificate, X509ChainStatus[] status)
    {
        var flags = status.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        var now = DateTime.Now;
        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            return certificate.NotAfter < now ? $"the certificate ({certificate.Subject}) expired on {Date(certificate.NotAfter)}"
                : certificate.NotBefore > now ? $"the certificate ({certificate.Subject}) is not valid before {Date(certificate.NotBefore)}"
                : "a certificate in the upstream's chain has expired";
        }

        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            return $"the certificate ({certificate.Subject}, issued by {certificate.Issuer}) is not from a trusted authority; for a private CA, set {ConfigKeys.UpstreamCaFile}";
        }

        if ((flags & X509ChainStatusFlags.Revoked) != 0)
        {
            return $"the certificate ({certificate.Subject}) has been revoked";
        }

        return $"the certificate chain is invalid ({flags})";
    }

    private static string Date(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
