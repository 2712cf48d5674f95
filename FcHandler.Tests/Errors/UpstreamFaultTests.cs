using System.Net.Http;
using System.Net.Sockets;
using FcHandler.Errors;
using FcHandler.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Tests.Errors;

/// <summary>
/// How a failed forward is named, on the exceptions SocketsHttpHandler throws (their shapes as observed against real
/// sockets in the fault battery). The cancellations matter most: the route's idle timeout tears the connection down,
/// and whatever the socket says then must not be taken for the upstream's fault.
/// </summary>
public sealed class UpstreamFaultTests
{
    public static TheoryData<string, ForwarderError, Exception, string?, bool> Cases => new()
    {
        { "dns", ForwarderError.Request, new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known", new SocketException((int)SocketError.HostNotFound)), "upstream_dns_failure", true },
        { "refused", ForwarderError.Request, new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused)), "upstream_connection_refused", true },
        { "unreachable", ForwarderError.Request, new HttpRequestException(HttpRequestError.ConnectionError, "Network is unreachable", new SocketException((int)SocketError.NetworkUnreachable)), "upstream_unreachable", true },
        { "certificate", ForwarderError.Request, new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established", new UpstreamCertificateException("the certificate expired")), "upstream_tls_failure", false },
        { "handshake cut", ForwarderError.Request, new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established", new IOException("Received an unexpected EOF")), "upstream_tls_failure", true },
        { "connect timeout", ForwarderError.RequestTimedOut, new TaskCanceledException("The operation was canceled.", new TimeoutException("A connection could not be established within the configured ConnectTimeout.")), "upstream_connect_timeout", false },
        { "reset", ForwarderError.Request, new HttpRequestException("An error occurred while sending the request.", new IOException("Unable to read data", new SocketException((int)SocketError.ConnectionReset))), "upstream_connection_reset", false },
        { "ended", ForwarderError.Request, new HttpRequestException(HttpRequestError.ResponseEnded, "An error occurred while sending the request.", new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely.")), "upstream_connection_reset", false },
        { "rst_stream", ForwarderError.ResponseBodyDestination, new HttpProtocolException(2, "The HTTP/2 server reset the stream.", null), "upstream_protocol_error", false },
        // The route's idle timeout: the connection is torn down, and the socket may report an abort or a reset.
        { "idle timeout, aborted socket", ForwarderError.RequestTimedOut, new TaskCanceledException("The operation was canceled.", new IOException("Unable to read data", new SocketException((int)SocketError.ConnectionAborted))), null, false },
        { "idle timeout, reset socket", ForwarderError.RequestTimedOut, new TaskCanceledException("The operation was canceled.", new IOException("Unable to read data", new SocketException((int)SocketError.ConnectionReset))), null, false },
        // The client's side of the exchange is never the upstream's fault.
        { "client body", ForwarderError.RequestBodyClient, new IOException("reset", new SocketException((int)SocketError.ConnectionReset)), null, false },
        { "client left", ForwarderError.ResponseBodyClient, new IOException("reset", new SocketException((int)SocketError.ConnectionReset)), null, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Of_FailedForward_NamesTheFaultAndWhetherARetryMayHelp(string name, ForwarderError error, Exception exception, string? code, bool retryable)
    {
        var fault = UpstreamFault.Of(error, exception);

        Assert.True(code == fault?.Code, $"{name}: expected {code ?? "no fault"}, got {fault?.Code ?? "no fault"}");
        Assert.Equal(retryable, fault?.Retryable ?? false);
    }
}
