using System.Net.Http;
using System.Net.Sockets;
using FcHandler.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Errors;

/// <summary>
/// A failure between the proxy and the upstream, named from the exception YARP reports: the error the client gets,
/// the reason for the log, and whether one retry may help. Retryable means the request cannot have reached the upstream
/// (the name did not resolve, the connection was never made, the TLS handshake broke off) and a second try could
/// succeed: never a request that may have arrived, never a certificate the upstream will present again, never a
/// connect timeout (a retry would double the client's wait).
/// </summary>
internal readonly record struct UpstreamFault(ProxyError Error, string Reason, bool Retryable)
{
    public string Code => Error.Code;

    /// <summary>The fault behind a failed forward, or null when the failure was not the upstream's (the client's body,
    /// the client going away, the route's idle timeout).</summary>
    public static UpstreamFault? Of(ForwarderError error, Exception? exception)
    {
        if (exception is null || error is not (ForwarderError.Request or ForwarderError.RequestTimedOut
            or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination))
        {
            return null;
        }

        // A cancellation is the route's idle timeout or the client leaving, whatever the socket said as the connection was
        // torn down for it; only SocketsHttpHandler's ConnectTimeout (a cancellation around a TimeoutException) is the
        // upstream's.
        var reason = Innermost(exception).Message;
        if (exception is OperationCanceledException)
        {
            return Find<TimeoutException>(exception) is null ? null : new(ProxyError.UpstreamConnectTimeout(), reason, Retryable: false);
        }

        switch (Find<HttpRequestException>(exception)?.HttpRequestError)
        {
            case HttpRequestError.NameResolutionError:
                return new(ProxyError.UpstreamDnsFailure(), reason, Retryable: true);
            case HttpRequestError.ConnectionError:
                return Find<SocketException>(exception) is { SocketErrorCode: SocketError.ConnectionRefused }
                    ? new(ProxyError.UpstreamConnectionRefused(), reason, Retryable: true)
                    : new(ProxyError.UpstreamUnreachable(), reason, Retryable: true);
            case HttpRequestError.SecureConnectionError:
                // A refused certificate will be refused again; a handshake cut short may go through on a new connection.
                return Find<UpstreamCertificateException>(exception) is { } certificate
                    ? new(ProxyError.UpstreamTlsFailure(certificate.Problem), certificate.Problem, Retryable: false)
                    : new(ProxyError.UpstreamTlsFailure(reason), reason, Retryable: true);
        }

        // HTTP/2: RST_STREAM, or GOAWAY with an error code; the message names which, and the code.
        if (Find<HttpProtocolException>(exception) is not null
            || Find<HttpRequestException>(exception)?.HttpRequestError is HttpRequestError.HttpProtocolError or HttpRequestError.InvalidResponse)
        {
            return new(ProxyError.UpstreamProtocolError(), reason, Retryable: false);
        }

        if (Find<HttpIOException>(exception) is { HttpRequestError: HttpRequestError.ResponseEnded }
            || Find<SocketException>(exception) is { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown })
        {
            return new(ProxyError.UpstreamConnectionReset(), reason, Retryable: false);
        }

        return null;
    }

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception;
    }
}
