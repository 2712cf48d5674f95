using FcHandler.Diagnostics;
using FcHandler.Hosting;
using FcHandler.Logging;
using FcHandler.Proxy;

namespace FcHandler.Fc;

/// <summary>
/// FC's initializer, before the instance's first request: opens a connection to the upstream (DNS, TCP, TLS) so the
/// first real request reuses it instead of paying for the handshake, and meanwhile runs <c>doctor</c>'s connection
/// check on a connection of its own, so the log says how long each step took, which certificate the upstream showed,
/// or which step failed. The warm-up sends <c>HEAD</c> to the upstream base: no body, no credentials, nothing about
/// any client; the check sends nothing at all.
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
        var warm = HeadAsync(cancellation.Token);
        await CheckAsync(cancellation.Token);
        return await warm;
    }

    private async Task<bool> HeadAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, upstream.DestinationPrefix + "/")
            {
                Version = upstream.PassThrough.Version ?? System.Net.HttpVersion.Version20,
                VersionPolicy = upstream.PassThrough.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
            };
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

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            var report = await _probe.RunAsync(options.UpstreamBaseUrl, cancellationToken).ConfigureAwait(false);
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
