using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace FcHandler.Access;

/// <summary>Whether the client's connection is still there, asked after a read of its request failed.</summary>
internal static class ClientConnection
{
    /// <summary>
    /// True when the client has gone: the read failed because the connection was reset or aborted, or the client closed
    /// its side of it. Kestrel cancels <c>RequestAborted</c> for a closed connection only later, on the thread pool, so a
    /// read that fails on the close itself ("unexpected end of request content") is told apart by asking the socket: it
    /// reads as ready with nothing left to read once the client's FIN (or a reset) has arrived. A client that is still
    /// there, sending a malformed body, has not closed it.
    /// </summary>
    public static bool HasEnded(HttpContext context, Exception readFailure)
    {
        if (readFailure is OperationCanceledException or ConnectionResetException || context.RequestAborted.IsCancellationRequested)
        {
            return true;
        }

        if (context.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return false; // not a socket of ours (an FC event's request): nothing tells
        }

        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            return true; // already closed under us
        }
    }
}
