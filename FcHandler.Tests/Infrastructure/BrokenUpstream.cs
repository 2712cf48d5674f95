using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A TCP server on 127.0.0.1 that accepts, reads the start of a request and then breaks off without a byte of
/// response: a reset (RST) or a close (FIN). The request has reached it, so a proxy must not send it again. With a
/// certificate it speaks TLS first (HTTP/1.1 by ALPN), so the break comes after a good handshake.
/// </summary>
public sealed class BrokenUpstream : IDisposable
{
    private readonly TcpListener _listener;
    private readonly bool _reset;
    private readonly X509Certificate2? _certificate;
    private int _connections;

    private BrokenUpstream(TcpListener listener, bool reset, X509Certificate2? certificate)
    {
        _listener = listener;
        _reset = reset;
        _certificate = certificate;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <param name="reset">True: RST after reading; false: FIN.</param>
    /// <param name="certificate">Speak TLS first, with this certificate.</param>
    public static BrokenUpstream Start(bool reset, X509Certificate2? certificate = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 512);
        var upstream = new BrokenUpstream(listener, reset, certificate);
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
                Stream stream = new NetworkStream(socket, ownsSocket: false);
                if (_certificate is not null)
                {
                    var tls = new SslStream(stream);
                    await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = _certificate,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    });
                    stream = tls;
                }

                await stream.ReadAtLeastAsync(new byte[16 * 1024], 1, throwOnEndOfStream: false);
                if (_reset)
                {
                    socket.LingerState = new LingerOption(enable: true, seconds: 0); // close sends RST
                }
                else
                {
                    socket.Shutdown(SocketShutdown.Both);
                }
            }
            catch (Exception exception) when (exception is IOException or SocketException)
            {
                // The proxy went first.
            }
        }
    }

    public void Dispose() => _listener.Stop();
}
