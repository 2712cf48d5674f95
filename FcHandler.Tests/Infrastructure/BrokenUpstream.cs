using System.Net;
using System.Net.Sockets;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A TCP server on 127.0.0.1 that accepts, reads the start of a request and then breaks off without a byte of
/// response: a reset (RST) or a close (FIN). The request has reached it, so a proxy must not send it again.
/// </summary>
public sealed class BrokenUpstream : IDisposable
{
    private readonly TcpListener _listener;
    private readonly bool _reset;
    private int _connections;

    private BrokenUpstream(TcpListener listener, bool reset)
    {
        _listener = listener;
        _reset = reset;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <param name="reset">True: RST after reading; false: FIN.</param>
    public static BrokenUpstream Start(bool reset)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 512);
        var upstream = new BrokenUpstream(listener, reset);
        _ = upstream.AcceptAsync();
        return upstream;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync();
                Interlocked.Increment(ref _connections);
                _ = BreakAsync(socket);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task BreakAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                await socket.ReceiveAsync(new byte[16 * 1024]);
                if (_reset)
                {
                    socket.LingerState = new LingerOption(enable: true, seconds: 0); // close sends RST
                }
                else
                {
                    socket.Shutdown(SocketShutdown.Both);
                }
            }
            catch (SocketException)
            {
                // The proxy went first.
            }
        }
    }

    public void Dispose() => _listener.Stop();
}
