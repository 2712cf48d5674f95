using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

using FcHandler.Proxy;

namespace FcHandler.Diagnostics;

/// <summary>
/// Walks the way to the upstream one step at a time, timing each: DNS, TCP, then TLS (protocol, ALPN, the
/// certificate's subject, issuer and expiry). What <c>doctor</c> prints, and what FC's initializer logs. Each step
/// says why it failed, so "the proxy does not work" becomes "the name does not resolve" or "the certificate is not
/// trusted". The certificate is checked as the forwarder checks it (<see cref="UpstreamCertificateCheck"/>: the system's
/// roots, or <c>UPSTREAM_CA_FILE</c>'s). The resolver is a parameter so tests need no network; they trust their own
/// certificates through <c>UPSTREAM_CA_FILE</c>, as an operator trusts a private CA.
/// </summary>
internal sealed class UpstreamProbe(UpstreamProbe.Resolver resolve, TimeSpan connectTimeout, UpstreamCertificateCheck check)
{
    public delegate Task<IPAddress[]> Resolver(string host, CancellationToken cancellationToken);

    /// <summary>The system's resolver, as the forwarder's connections use it.</summary>
    public static Task<IPAddress[]> SystemResolve(string host, CancellationToken cancellationToken) => Dns.GetHostAddressesAsync(host, cancellationToken);

    public Resolver Resolve { get; } = resolve;

    public async Task<ProbeReport> RunAsync(Uri upstream, CancellationToken cancellationToken)
    {
        var (report, connection) = await OpenAsync(upstream, socket => new NetworkStream(socket, ownsSocket: true), cancellationToken);
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        return report;
    }

    /// <summary>
    /// The same steps, leaving the connection open for use: the stream <paramref name="wrap"/> made of the socket, or
    /// the TLS stream over it for an https upstream; null when a step failed.
    /// </summary>
    public async Task<(ProbeReport Report, Stream? Connection)> OpenAsync(Uri upstream, Func<Socket, NetworkStream> wrap, CancellationToken cancellationToken)
    {
        var report = new ProbeReport(upstream);
        var host = upstream.DnsSafeHost;

        // 1. DNS (nothing to resolve for an address).
        var start = Stopwatch.GetTimestamp();
        if (IPAddress.TryParse(host, out var literal))
        {
            report.Addresses = [literal];
        }
        else
        {
            try
            {
                report.Addresses = await Resolve(host, cancellationToken);
            }
            catch (SocketException exception)
            {
                return (report.Fail(ProbeStep.Dns, $"{host} does not resolve: {exception.Message} ({exception.SocketErrorCode})"), null);
            }

            report.DnsMs = Elapsed(start);
        }

        if (report.Addresses.Count == 0)
        {
            return (report.Fail(ProbeStep.Dns, $"{host} resolves to no address"), null);
        }

        // 2. TCP, to each address in turn, within the connect timeout.
        start = Stopwatch.GetTimestamp();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(connectTimeout);
                await socket.ConnectAsync([.. report.Addresses], upstream.Port, timeout.Token);
            }

            // A dual-mode socket reports an IPv4 peer as ::ffff:a.b.c.d; the address the DNS step printed reads better.
            report.Connected = socket.RemoteEndPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } mapped
                ? new IPEndPoint(mapped.Address.MapToIPv4(), mapped.Port)
                : socket.RemoteEndPoint;
            report.ConnectMs = Elapsed(start);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            var reason = exception is SocketException socketError ? $"{socketError.Message} ({socketError.SocketErrorCode})" : $"no answer within {connectTimeout.TotalSeconds:0.#} s";
            return (report.Fail(ProbeStep.Connect, $"cannot connect to {string.Join(", ", report.Addresses)} port {upstream.Port}: {reason}"), null);
        }

        var network = wrap(socket);
        return upstream.Scheme == Uri.UriSchemeHttps ? await HandshakeAsync(report, network, host, cancellationToken) : (report, network);
    }

    // 3. TLS as the forwarder does it: SNI = the host, ALPN h2 then http/1.1, the system's trust store.
    private async Task<(ProbeReport, Stream?)> HandshakeAsync(ProbeReport report, NetworkStream network, string host, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        string? refusal = null;
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
        };
        check.ApplyTo(options);
        options.RemoteCertificateValidationCallback = (_, certificate, chain, policyErrors) =>
        {
            if (certificate is X509Certificate2 server)
            {
                report.CertificateSubject = server.Subject;
                report.CertificateIssuer = server.Issuer;
                report.CertificateExpires = server.NotAfter.ToUniversalTime();
            }

            var trusted = check.TryValidate(certificate, chain, policyErrors, out var problem);
            refusal = problem;
            return trusted;
        };

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(connectTimeout);
            await tls.AuthenticateAsClientAsync(options, timeout.Token);
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException or OperationCanceledException)
        {
            await tls.DisposeAsync();
            var reason = refusal
                ?? (exception is OperationCanceledException ? $"no handshake within {connectTimeout.TotalSeconds:0.#} s" : exception.Message);
            return (report.Fail(ProbeStep.Tls, reason), null);
        }

        report.TlsProtocol = tls.SslProtocol;
        report.Alpn = tls.NegotiatedApplicationProtocol.ToString();
        report.TlsMs = Elapsed(start);
        return (report, tls);
    }

    private static double Elapsed(long start) => Stopwatch.GetElapsedTime(start).TotalMilliseconds;
}
