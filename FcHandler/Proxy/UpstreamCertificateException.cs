using System.Security.Authentication;

namespace FcHandler.Proxy;

/// <summary>
/// The upstream's TLS certificate was refused, with the problem in words an operator can act on ("expired on ...",
/// "issued for ..., not for ..."). Thrown from the certificate check, it reaches the forwarder as the inner exception
/// of the handshake failure.
/// </summary>
internal sealed class UpstreamCertificateException(string problem) : AuthenticationException(problem)
{
    public string Problem { get; } = problem;
}
