using System.Net;

namespace FcHandler.Proxy;

/// <summary>
/// Decides where a new connection to the upstream goes. Only tests register one: to fail name resolution
/// deterministically (a machine's resolver may answer in milliseconds, or hang when it has no network) and to move the
/// upstream between ports. Without one, connections go to the upstream's host name, resolved as
/// <see cref="SocketsHttpHandler"/> resolves it by default.
/// </summary>
internal sealed class UpstreamResolver(Func<DnsEndPoint, CancellationToken, ValueTask<EndPoint>> resolve)
{
    public ValueTask<EndPoint> ResolveAsync(DnsEndPoint name, CancellationToken cancellationToken) => resolve(name, cancellationToken);
}
