using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FcHandler.Hosting;

namespace FcHandler.Proxy;

/// <summary>
/// Checks the upstream's TLS certificate as .NET does (chain and host name), against the system's trusted roots or,
/// with <c>UPSTREAM_CA_FILE</c>, against those roots only, each parsed the first time a chain names it
/// (<see cref="TrustAnchors"/>; on FC, build/bootstrap points <c>UPSTREAM_CA_FILE</c> at the system's bundle for that
/// reason). A refusal throws <see cref="UpstreamCertificateException"/> naming the problem, so the client's error and
/// the log say which certificate failed and why rather than "the SSL connection could not be established". Runs once
/// per TLS handshake, never per request; a chain verified against those roots is remembered (<see cref="ValidatedChains"/>).
/// </summary>
/// <param name="time">Tests only: the clock of chain verification and of the remembered chains' expiry.</param>
internal sealed class UpstreamCertificateCheck(string host, TrustAnchors? anchors, TimeProvider? time = null)
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ValidatedChains _validated = new(time ?? TimeProvider.System);
    private int _chainsBuilt;

    /// <summary>How many chains the check has built against the private roots (the ones it did not find remembered).</summary>
    public int ChainsBuilt => Volatile.Read(ref _chainsBuilt);

    /// <summary>Puts the check on TLS options for the upstream (the forwarder's, the doctor's).</summary>
    public void ApplyTo(SslClientAuthenticationOptions options)
    {
        options.RemoteCertificateValidationCallback = Validate;
        if (anchors is not null)
        {
            // .NET builds a chain of its own before the check runs. Against roots it does not hold, that chain ends at
            // an issuer it lacks, which it would try to download from the address in the certificate (AIA) on every
            // handshake; the check's own chain decides instead.
            options.CertificateChainPolicy = NoDownloads(new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust });
        }
    }

    /// <summary>Whether the certificate is trusted for the upstream, and if not, why, in an operator's words.</summary>
    public bool TryValidate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, out string? problem)
    {
        try
        {
            problem = null;
            return Validate(this, certificate, chain, errors);
        }
        catch (UpstreamCertificateException exception)
        {
            problem = exception.Problem;
            return false;
        }
    }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var status = chain?.ChainStatus ?? [];

        // Private roots replace the system's: the chain is built again against them alone, with the intermediates the
        // upstream sent, unless these very certificates were verified so already and none of them has expired since.
        if (anchors is not null && certificate is X509Certificate2 leaf)
        {
            X509Certificate2[] sent = chain is null ? [] : [.. chain.ChainPolicy.ExtraStore, .. chain.ChainElements.Select(element => element.Certificate)];
            var key = ValidatedChains.KeyOf(leaf, sent);
            var trusted = _validated.Contains(key);
            if (trusted)
            {
                status = [];
            }
            else
            {
                using var custom = ChainAgainstAnchors(leaf, sent);
                trusted = custom.Build(leaf);
                Interlocked.Increment(ref _chainsBuilt);
                status = custom.ChainStatus;
                if (trusted)
                {
                    _validated.Add(key, custom);
                }
            }

            errors = (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) | (trusted ? 0 : SslPolicyErrors.RemoteCertificateChainErrors);
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        throw new UpstreamCertificateException(Describe(certificate as X509Certificate2, errors, status));
    }

    // A chain of its own per handshake, so concurrent handshakes share nothing mutable.
    private X509Chain ChainAgainstAnchors(X509Certificate2 leaf, X509Certificate2[] sent)
    {
        var custom = new X509Chain();
        custom.ChainPolicy = NoDownloads(custom.ChainPolicy);
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        custom.ChainPolicy.ExtraStore.AddRange(sent);
        custom.ChainPolicy.CustomTrustStore.AddRange(anchors!.RootsFor([leaf, .. sent]));
        return custom;
    }

    // As .NET's default check: no revocation lookups, and no fetching of missing certificates over the network.
    private static X509ChainPolicy NoDownloads(X509ChainPolicy policy)
    {
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        return policy;
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

    private string DescribeChain(X509Certificate2 certificate, X509ChainStatus[] status)
    {
        var flags = status.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        var now = _time.GetLocalNow().DateTime;
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
