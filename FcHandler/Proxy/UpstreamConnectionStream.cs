using System.Net.Sockets;

namespace FcHandler.Proxy;

/// <summary>
/// A connection to the upstream that tells <see cref="UpstreamConnections"/> when it closes. It is the socket's own
/// <see cref="NetworkStream"/> otherwise, so reads and writes go straight to it, and SocketsHttpHandler still sees a
/// network stream (it asks one for the remote end point).
/// </summary>
internal sealed class UpstreamConnectionStream(Socket socket, UpstreamConnections connections) : NetworkStream(socket, ownsSocket: true)
{
    private int _closed;

    // DisposeAsync, which NetworkStream does not override, ends here too.
    protected override void Dispose(bool disposing)
    {
        var closing = disposing && Interlocked.Exchange(ref _closed, 1) == 0;
        base.Dispose(disposing);
        if (closing)
        {
            connections.Closed();
        }
    }
}
