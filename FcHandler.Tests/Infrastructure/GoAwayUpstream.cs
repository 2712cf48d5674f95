using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A bare HTTP/2 server over TLS (ALPN h2) that answers one request with the start of an event stream and then, when
/// told, sends GOAWAY with INTERNAL_ERROR and closes the connection: an upstream that gives up mid-response. Kestrel
/// cannot be made to do this (it either finishes the stream after a graceful GOAWAY or drops the TCP connection
/// without one), so the frames are written by hand (RFC 9113).
/// </summary>
public sealed class GoAwayUpstream : IDisposable
{
    private const byte Data = 0, Headers = 1, Settings = 4, GoAway = 7;
    private const byte EndStream = 1, Ack = 1, EndHeaders = 4;
    private const uint InternalError = 2;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly Task _goAway;

    private GoAwayUpstream(X509Certificate2 certificate, Task goAway)
    {
        _certificate = certificate;
        _goAway = goAway;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <param name="certificate">The server certificate.</param>
    /// <param name="goAway">Completes when the server is to give up: after the first event, at the test's signal.</param>
    public static GoAwayUpstream Start(X509Certificate2 certificate, Task goAway)
    {
        var upstream = new GoAwayUpstream(certificate, goAway);
        upstream._listener.Start();
        _ = upstream.ServeAsync();
        return upstream;
    }

    private async Task ServeAsync()
    {
        try
        {
            using var socket = await _listener.AcceptSocketAsync();
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
            });

            await ReadExactlyAsync(tls, 24); // the client's connection preface
            await WriteFrameAsync(tls, Settings, 0, 0, []);
            var stream = await ReadRequestAsync(tls);

            // :status 200 (static table index 8), content-type (index 31) as a literal without indexing.
            var contentType = Encoding.ASCII.GetBytes("text/event-stream");
            await WriteFrameAsync(tls, Headers, EndHeaders, stream, [0x88, 0x0f, 0x10, (byte)contentType.Length, .. contentType]);
            await WriteFrameAsync(tls, Data, 0, stream, Encoding.ASCII.GetBytes("data: first\n\n"));
            await _goAway;

            var goAway = new byte[8];
            BinaryPrimitives.WriteInt32BigEndian(goAway, stream); // the last stream processed: this one
            BinaryPrimitives.WriteUInt32BigEndian(goAway.AsSpan(4), InternalError);
            await WriteFrameAsync(tls, GoAway, 0, 0, goAway);

            // Close cleanly (FIN, then drain), so the client reads the GOAWAY rather than a reset.
            socket.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            while (await tls.ReadAsync(sink) > 0)
            {
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
        {
            // The proxy went first, or the test is over.
        }
    }

    /// <summary>Reads frames until a request stream ends, acknowledging the client's settings; returns its id.</summary>
    private static async Task<int> ReadRequestAsync(SslStream tls)
    {
        while (true)
        {
            var header = await ReadExactlyAsync(tls, 9);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var (type, flags) = (header[3], header[4]);
            var stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
            await ReadExactlyAsync(tls, length);
            if (type == Settings && (flags & Ack) == 0)
            {
                await WriteFrameAsync(tls, Settings, Ack, 0, []);
            }
            else if (type is Headers or Data && (flags & EndStream) != 0)
            {
                return stream;
            }
        }
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int length)
    {
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    private static async Task WriteFrameAsync(Stream stream, byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        await stream.WriteAsync(frame);
        await stream.FlushAsync();
    }

    public void Dispose() => _listener.Stop();
}
