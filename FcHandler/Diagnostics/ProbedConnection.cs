using System.Net.Sockets;

namespace FcHandler.Diagnostics;

/// <summary>
/// A connection to the upstream opened step by step by <see cref="UpstreamProbe"/>, for the pool to keep: FC's
/// initializer sends its warm-up request with one of these in the request's options, and the pool's connect callback
/// opens the connection through it (SocketsHttpHandler uses an <see cref="System.Net.Security.SslStream"/> the callback
/// returns as it is, with the protocol its ALPN chose:
/// https://github.com/dotnet/runtime/blob/main/src/libraries/System.Net.Http/src/System/Net/Http/SocketsHttpHandler/ConnectionPool/HttpConnectionPool.cs).
/// So the connection the first request reuses is also the one the log describes: one DNS lookup, TCP connect and TLS
/// handshake instead of two, in the CPU budget of a cold start.
/// </summary>
internal sealed class ProbedConnection(UpstreamProbe probe, Uri upstream)
{
    public static readonly HttpRequestOptionsKey<ProbedConnection> Key = new("FcHandler.ProbedConnection");

    /// <summary>What the probe found; null if the request never opened a connection (the pool had one).</summary>
    public ProbeReport? Report { get; private set; }

    /// <summary>The connection, or an exception naming the step that failed (the pool reports it as a connect failure).</summary>
    public async ValueTask<Stream> OpenAsync(Func<Socket, NetworkStream> wrap, CancellationToken cancellationToken)
    {
        var (report, connection) = await probe.OpenAsync(upstream, wrap, cancellationToken).ConfigureAwait(false);
        Report = report;
        return connection ?? throw new IOException($"{report.FailedAt.ToString().ToLowerInvariant()}: {report.Failure}");
    }
}
