using System.Net;
using System.Net.Sockets;

namespace FcHandler.Tests.Infrastructure;

public static class Ports
{
    /// <summary>A port on 127.0.0.1 that was free a moment ago: connecting to it is refused.</summary>
    public static int Unused()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
