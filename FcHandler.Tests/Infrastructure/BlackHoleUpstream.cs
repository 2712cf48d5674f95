using System.Net;
using System.Net.Sockets;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A port where connections hang: a listener that never accepts, with its accept queue already full, so Linux drops
/// every further SYN and a connect waits until its timeout, as it does toward a host that is down behind a firewall.
/// </summary>
public sealed class BlackHoleUpstream : IDisposable
{
    private readonly Socket _listener;
    private readonly Socket _filler;

    private BlackHoleUpstream(Socket listener, Socket filler)
    {
        _listener = listener;
        _filler = filler;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static async Task<BlackHoleUpstream> StartAsync()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0); // room for one connection nobody accepts

        // Takes that one place; from here on the queue is full.
        var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await filler.ConnectAsync(listener.LocalEndPoint!);
        return new BlackHoleUpstream(listener, filler);
    }

    public void Dispose()
    {
        _filler.Dispose();
        _listener.Dispose();
    }
}
