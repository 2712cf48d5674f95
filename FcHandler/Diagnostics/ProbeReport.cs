using System.Globalization;
using System.Net;
using System.Security.Authentication;

namespace FcHandler.Diagnostics;

/// <summary>The step of the way to the upstream that failed.</summary>
internal enum ProbeStep
{
    None,
    Dns,
    Connect,
    Tls,
}

/// <summary>What <see cref="UpstreamProbe"/> found, step by step; a step after the failed one did not run.</summary>
internal sealed class ProbeReport(Uri upstream)
{
    public Uri Upstream { get; } = upstream;

    public ProbeStep FailedAt { get; private set; }

    /// <summary>Why <see cref="FailedAt"/> failed.</summary>
    public string? Failure { get; private set; }

    public IReadOnlyList<IPAddress> Addresses { get; set; } = [];

    public double? DnsMs { get; set; }

    public EndPoint? Connected { get; set; }

    public double? ConnectMs { get; set; }

    /// <summary>Null for a plain-http upstream.</summary>
    public SslProtocols? TlsProtocol { get; set; }

    /// <summary>The protocol the server chose by ALPN: h2 or http/1.1 (empty if it chose none).</summary>
    public string? Alpn { get; set; }

    public string? CertificateSubject { get; set; }

    public string? CertificateIssuer { get; set; }

    public DateTime? CertificateExpires { get; set; }

    public double? TlsMs { get; set; }

    public bool Succeeded => FailedAt == ProbeStep.None;

    public ProbeReport Fail(ProbeStep step, string reason)
    {
        FailedAt = step;
        Failure = reason;
        return this;
    }

    public string DnsLine => DnsMs is null
        ? $"{Upstream.DnsSafeHost}: an address, nothing to resolve"
        : $"{Upstream.DnsSafeHost} -> {string.Join(", ", Addresses)} ({Ms(DnsMs)})";

    public string ConnectLine => $"{Connected} ({Ms(ConnectMs)})";

    public string TlsLine => TlsProtocol is null ? "none: the upstream is plain http" : $"{TlsSummary} ({Ms(TlsMs)})";

    /// <summary>Protocol, ALPN and certificate, without the time.</summary>
    public string TlsSummary => TlsProtocol is null
        ? "none (plain http)"
        : $"{ProtocolName(TlsProtocol.Value)}, ALPN {(string.IsNullOrEmpty(Alpn) ? "none" : Alpn)}, certificate {CertificateSubject} "
          + $"issued by {CertificateIssuer}, expires {CertificateExpires:yyyy-MM-dd}";

    public static string Ms(double? milliseconds)
        => milliseconds is { } value ? value.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "-";

    private static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString(),
    };
}
