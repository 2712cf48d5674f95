using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// An in-process stand-in for api.openai.com on 127.0.0.1:0: records every request it receives and answers with
/// <see cref="Handler"/>, which defaults to <see cref="FakeResponses.DefaultAsync"/>. One per test: nothing shared.
/// </summary>
public sealed class FakeOpenAI : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<WebSocketEnd> _webSocketEnds = new();
    private readonly TaskCompletionSource<WebSocketEnd> _firstWebSocketEnd = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<(int Count, TaskCompletionSource Reached)> _connectionWaiters = new();
    private int _connections;

    private FakeOpenAI(WebApplication app) => _app = app;

    /// <summary>Answers each request after it has been recorded (its body is already read).</summary>
    public Func<HttpContext, RecordedRequest, Task> Handler { get; set; } = FakeResponses.DefaultAsync;

    /// <summary>
    /// Serves each accepted WebSocket (selecting the <c>realtime</c> subprotocol when offered); defaults to
    /// <see cref="FakeRealtime.ServeAsync"/>. Set <see cref="AcceptWebSockets"/> to false to answer handshakes with
    /// <see cref="Handler"/> instead.
    /// </summary>
    public Func<WebSocket, RecordedRequest, Task> WebSocketHandler { get; set; } = FakeRealtime.ServeAsync;

    public bool AcceptWebSockets { get; set; } = true;

    /// <summary>When set, serves each WebSocket handshake instead of <see cref="WebSocketHandler"/>, with every frame in view.</summary>
    public Func<RawWebSocket, Task>? RawWebSocketHandler { get; set; }

    /// <summary>Decides per handshake instead of <see cref="AcceptWebSockets"/> when set (a key pool's test refuses one key's).</summary>
    public Func<HttpContext, bool>? AcceptWebSocket { get; set; }

    /// <summary>How each WebSocket ended here, in the order they ended.</summary>
    public IReadOnlyCollection<WebSocketEnd> WebSocketEnds => _webSocketEnds;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>TCP connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Completes once <paramref name="count"/> TCP connections have been accepted (Kestrel counts them a moment after the client connects).</summary>
    public Task WaitForConnectionsAsync(int count)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _connectionWaiters.Enqueue((count, reached));
        if (Connections >= count)
        {
            reached.TrySetResult();
        }

        return reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public RecordedRequest SingleRequest => Assert.Single(_requests);

    /// <param name="certificate">Serve HTTPS with this certificate, HTTP/2 (ALPN h2) and HTTP/1.1; plain HTTP/1.1 without.</param>
    public static async Task<FakeOpenAI> StartAsync(X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (certificate is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        FakeOpenAI? fake = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                listen.Use(next => connection =>
                {
                    var count = Interlocked.Increment(ref fake!._connections);
                    foreach (var (wanted, reached) in fake._connectionWaiters)
                    {
                        if (count >= wanted)
                        {
                            reached.TrySetResult();
                        }
                    }

                    return next(connection);
                });
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });

        var app = builder.Build();
        fake = new FakeOpenAI(app);
        app.UseWebSockets();
        app.Run(fake.HandleAsync);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        fake.BaseAddress = new Uri(address);
        return fake;
    }

    /// <summary>How the first WebSocket ended here, once it has.</summary>
    public Task<WebSocketEnd> FirstWebSocketEnd => _firstWebSocketEnd.Task.WaitAsync(TimeSpan.FromSeconds(30));

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        var raw = RawWebSocketHandler is not null && context.WebSockets.IsWebSocketRequest;
        var webSocket = (AcceptWebSocket?.Invoke(context) ?? AcceptWebSockets) && context.WebSockets.IsWebSocketRequest;
        if (!webSocket && !raw)
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        }

        var headers = context.Request.Headers.ToDictionary(
            h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? "",
            context.Request.QueryString.Value ?? "",
            context.Request.Host.Value ?? "",
            headers,
            body.ToArray());
        _requests.Enqueue(recorded);

        if (raw)
        {
            await using var socket = await RawWebSocket.AcceptAsync(context);
            await RawWebSocketHandler!(socket);
            return;
        }

        if (webSocket)
        {
            await ServeWebSocketAsync(context, recorded);
            return;
        }

        await Handler(context, recorded);
    }

    private async Task ServeWebSocketAsync(HttpContext context, RecordedRequest recorded)
    {
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(offered.Contains("realtime") ? "realtime" : null);
        WebSocketEnd end;
        try
        {
            await WebSocketHandler(socket, recorded);
            end = new WebSocketEnd(socket.CloseStatus, socket.CloseStatusDescription, Vanished: false);
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException)
        {
            end = new WebSocketEnd(socket.CloseStatus, socket.CloseStatusDescription, Vanished: true);
        }

        _webSocketEnds.Enqueue(end);
        _firstWebSocketEnd.TrySetResult(end);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
