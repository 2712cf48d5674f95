using FcHandler.Diagnostics;
using FcHandler.Hosting;
using FcHandler.Logging;
using FcHandler.Proxy;

namespace FcHandler.Fc;

/// <summary>
/// FC's initializer, before the instance's first request: opens a connection to the upstream (DNS, TCP, TLS) so the
/// first real request reuses it instead of paying for the handshake, and opens it as <c>doctor</c>'s connection check
/// does, one step at a time (<see cref="ProbedConnection"/>), so the log says how long each step took, which
/// certificate the upstream showed, or which step failed. One handshake, not two: a cold start is on the critical path
/// of a user's first request after every pause. The warm-up sends <c>HEAD</c> to the upstream base: no body, no
/// credentials, nothing about any client.
/// </summary>
internal sealed class UpstreamWarmup(UpstreamClient upstream, ProxyOptions options, ILogger<UpstreamWarmup> logger) : IInstanceInitializer
{
    private readonly UpstreamProbe _probe = new(UpstreamProbe.SystemResolve, options.ConnectTimeout, UpstreamClient.CertificateCheck(options));

    public Task InitializeAsync(TimeSpan timeout, CancellationToken cancellationToken) => WarmAsync(timeout, cancellationToken);

    /// <summary>Never throws: the initializer must answer quickly even when the upstream is unreachable.</summary>
    public async Task<bool> WarmAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellation.CancelAfter(timeout);
        var connection = new ProbedConnection(_probe, options.UpstreamBaseUrl);
        var warmed = await HeadAsync(connection, cancellation.Token);
        await CheckAsync(connection, cancellation.Token);
        return warmed;
    }

    private async Task<bool> HeadAsync(ProbedConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, upstream.DestinationPrefix + "/")
            {
                Version = upstream.PassThrough.Version ?? System.Net.HttpVersion.Version20,
                VersionPolicy = upstream.PassThrough.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
            };
            request.Options.Set(ProbedConnection.Key, connection);
            using var response = await upstream.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            StartupTrace.Mark("warmup-head");
            ProxyLog.WarmupDone(logger, (int)response.StatusCode);
            return true;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            ProxyLog.WarmupFailed(logger, exception.GetType().Name, exception.Message);
            return false;
        }
    }

    // The warm-up's own connection, as it was opened; a connection of the check's own only when the warm-up opened
    // none (the pool already had one).
    private async Task CheckAsync(ProbedConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            if (connection.Report is null)
            {
                cancellationToken.ThrowIfCancellationRequested(); // the warm-up ran out of time before it connected
            }

            var report = connection.Report ?? await _probe.RunAsync(options.UpstreamBaseUrl, cancellationToken).ConfigureAwait(false);
            StartupTrace.Mark("warmup-check");
            if (report.Succeeded)
            {
                ProxyLog.UpstreamChecked(logger, options.DestinationPrefix, LogValue.Milliseconds(report.DnsMs), string.Join(", ", report.Addresses),
                    LogValue.Milliseconds(report.ConnectMs), LogValue.Milliseconds(report.TlsMs), report.TlsSummary);
            }
            else
            {
                ProxyLog.UpstreamCheckFailed(logger, report.FailedAt.ToString().ToLowerInvariant(), report.Failure!);
            }
        }
        catch (OperationCanceledException)
        {
            ProxyLog.UpstreamCheckFailed(logger, "timeout", "the check did not finish within WARMUP_TIMEOUT");
        }
    }
}
