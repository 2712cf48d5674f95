using FcHandler.Proxy;

namespace FcHandler.Fc;

/// <summary>
/// Opens a connection to the upstream (DNS, TCP, TLS) during FC's initializer, so the first real request of a new
/// instance reuses it instead of paying for the handshake. It sends <c>HEAD</c> to the upstream base: no body, no
/// credentials, nothing about any client.
/// </summary>
internal sealed class UpstreamWarmup(UpstreamClient upstream, ILogger<UpstreamWarmup> logger)
{
    /// <summary>Never throws: the initializer must answer quickly even when the upstream is unreachable.</summary>
    public async Task<bool> WarmAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellation.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, upstream.DestinationPrefix + "/")
            {
                Version = upstream.PassThrough.Version ?? System.Net.HttpVersion.Version20,
                VersionPolicy = upstream.PassThrough.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
            };
            using var response = await upstream.Invoker.SendAsync(request, cancellation.Token).ConfigureAwait(false);
            Logging.ProxyLog.WarmupDone(logger, (int)response.StatusCode);
            return true;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            Logging.ProxyLog.WarmupFailed(logger, exception.GetType().Name, exception.Message);
            return false;
        }
    }
}
