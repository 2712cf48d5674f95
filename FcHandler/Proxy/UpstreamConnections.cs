using System.Net;
using System.Net.Sockets;
using FcHandler.Diagnostics;

namespace FcHandler.Proxy;

/// <summary>
/// Opens the connections to the upstream (as <see cref="SocketsHttpHandler"/> does by default), counts those open, and
/// shares a failed attempt with every request waiting for a connection. Over HTTP/2, SocketsHttpHandler opens one
/// connection at a time and hands each failed attempt to one waiting request only, so with the upstream unreachable
/// the hundredth of a hundred concurrent requests would wait for a hundred attempts (measured: 20 requests against a
/// port that drops SYNs, 1 s connect timeout, the last answered after 20 s; a refusal or a bad certificate costs a
/// round trip each). When an attempt fails (no name, refused, timed out, TLS) while no connection is open, every
/// request still waiting for one fails the same way at once.
/// </summary>
internal sealed class UpstreamConnections(UpstreamResolver? resolver) : DelegatingHandler
{
    private readonly Lock _gate = new();
    private Outage _outage = new();
    private int _open;

    /// <summary>Connections to the upstream open now.</summary>
    public int Open => Volatile.Read(ref _open);

    // A connection is open: the request uses it (HTTP/2), or opens its own, failing alone (HTTP/1.1). Only a request
    // that may wait for a connection pays for the outage's bookkeeping (and a state machine of its own).
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => Open > 0 ? base.SendAsync(request, cancellationToken) : SendWaitingForConnectionAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendWaitingForConnectionAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Outage outage;
        lock (_gate)
        {
            outage = _outage;
        }

        // Linked only until the response headers arrive: the body that follows is never cut by someone else's outage.
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, outage.Token);
        try
        {
            return await base.SendAsync(request, waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (outage.Failure is { } shared && !cancellationToken.IsCancellationRequested)
        {
            throw Copy(shared);
        }
        catch (Exception exception) when (IsConnectFailure(exception, cancellationToken))
        {
            Share(exception);
            throw;
        }
    }

    /// <summary>The handler's <see cref="SocketsHttpHandler.ConnectCallback"/>.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        // FC's warm-up: its connection is the one the initializer's log describes (a test's resolver bypasses it).
        if (resolver is null && context.InitialRequestMessage.Options.TryGetValue(ProbedConnection.Key, out var probed))
        {
            return await probed.OpenAsync(Track, cancellationToken).ConfigureAwait(false);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            var endPoint = resolver is null ? context.DnsEndPoint : await resolver.ResolveAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return Track(socket);
    }

    private UpstreamConnectionStream Track(Socket socket)
    {
        Interlocked.Increment(ref _open);
        return new UpstreamConnectionStream(socket, this);
    }

    internal void Closed() => Interlocked.Decrement(ref _open);

    // The request's own connection attempt failed: the name, the TCP connect, the TLS handshake, or the connect timeout
    // (a cancellation around a TimeoutException, not the request's own cancellation).
    private static bool IsConnectFailure(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError } => true,
        OperationCanceledException { InnerException: TimeoutException } => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    // With a connection open, nobody is waiting on attempts; with none, every request in SendAsync is.
    private void Share(Exception failure)
    {
        Outage ended;
        lock (_gate)
        {
            if (Open > 0)
            {
                return;
            }

            ended = _outage;
            _outage = new Outage();
        }

        ended.End(failure);
    }

    // Each waiting request throws its own exception, shaped as the one the failed attempt gave.
    private static Exception Copy(Exception failure) => failure switch
    {
        HttpRequestException http => new HttpRequestException(http.HttpRequestError, http.Message, http.InnerException),
        _ => new TaskCanceledException(failure.Message, failure.InnerException),
    };

    /// <summary>The requests waiting for a connection since the last failed attempt, and that failure once it comes.</summary>
    private sealed class Outage
    {
        private readonly CancellationTokenSource _ended = new();

        public CancellationToken Token => _ended.Token;

        public Exception? Failure { get; private set; }

        public void End(Exception failure)
        {
            Failure = failure;
            _ended.Cancel();
        }
    }
}
