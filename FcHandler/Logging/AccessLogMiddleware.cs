using System.Diagnostics;
using FcHandler.Diagnostics;
using FcHandler.Errors;
using FcHandler.Fc;
using FcHandler.Keys;
using FcHandler.Proxy;
using FcHandler.Proxy.WebSockets;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Logging;

/// <summary>
/// Outermost step: one access line per request, after the response completes, and the last line of defence that
/// turns an unexpected exception into an OpenAI-shaped 500 (or an abort, once the response has started).
/// Logs method, path (never the query), route class, status, the upstream's status, timings, byte counts, the client's
/// subject (when access control names one), the model asked for, the usage OpenAI reported, the error code and the
/// request id; never headers or bodies.
/// </summary>
internal sealed class AccessLogMiddleware(RequestDelegate next, TimeSpan sseHeartbeat, TimeProvider time, ILogger<AccessLogMiddleware> logger)
{
    private int _regionRefusalLogged;

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        var exchange = new ProxyExchange();
        context.Features.Set(exchange);

        // Heartbeats go beneath the counter and the usage observer: not counted, never read as usage.
        var heartbeat = new SseHeartbeat(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>(), sseHeartbeat, time);
        context.Features.Set(heartbeat);
        var responseBody = new CountingResponseBodyFeature(heartbeat, exchange);
        context.Features.Set<IHttpResponseBodyFeature>(responseBody);

        try
        {
            await next(context);
            await responseBody.FinishAsync(context.RequestAborted);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            ProxyLog.Unhandled(logger, exception.GetType().Name, context.TraceIdentifier, exception);
            await ErrorWriter.WriteAsync(context, ProxyError.Internal());
        }
        catch (OperationCanceledException)
        {
            // The client went away; there is nobody to answer.
        }
        finally
        {
            await heartbeat.StopAsync();
            exchange.CompleteResponse();
            if (exchange.Settlement is { } settle)
            {
                await settle();
            }

            Log(context, exchange, start, responseBody.BytesWritten);
            WarnOnceAboutRegion(context, exchange);
        }
    }

    // OpenAI's 403 for a region it does not serve reaches the client unchanged; the operator gets one explanation per
    // instance, not one per request.
    private void WarnOnceAboutRegion(HttpContext context, ProxyExchange exchange)
    {
        if (exchange is { UpstreamStatus: StatusCodes.Status403Forbidden, ErrorCode: RegionAdvice.RefusalCode }
            && Interlocked.Exchange(ref _regionRefusalLogged, 1) == 0)
        {
            ProxyLog.RegionRefused(logger, RegionAdvice.Explain(context.GetFcContext()?.Region), context.TraceIdentifier);
        }
    }

    private void Log(HttpContext context, ProxyExchange exchange, long start, long bytesOut)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var upstreamTtfb = exchange.UpstreamHeadersTimestamp > 0
            ? Milliseconds(start, exchange.UpstreamHeadersTimestamp)
            : (double?)null;

        var key = context.Features.Get<KeyAttempt>();
        if (exchange.WebSocket is { Relay: not null } webSocket)
        {
            LogWebSocket(context, exchange, webSocket, upstreamTtfb, start, key);
            return;
        }

        // 499: the client closed the connection before the response completed (nginx's convention).
        var status = exchange.ClientGone || context.RequestAborted.IsCancellationRequested ? 499 : context.Response.StatusCode;

        ProxyLog.Access(
            logger,
            context.Request.Method,
            LoggedPath(context),
            RouteName(exchange.Route),
            status,
            LogValue.Integer(exchange.UpstreamStatus),
            LogValue.Milliseconds(upstreamTtfb),
            LogValue.Milliseconds(Milliseconds(start, Stopwatch.GetTimestamp())),
            exchange.RequestBodyBytes,
            bytesOut,
            LogValue.Text(exchange.Subject),
            LogValue.Text(key?.Served?.Label),
            LogValue.Integer(key?.Tried > 0 ? key.Tried : null),
            LogValue.Text(exchange.Model),
            new UsageLogValue(exchange.Usage),
            LogValue.Text(exchange.ErrorCode),
            context.TraceIdentifier);
    }

    // A relayed WebSocket's line, written when it closes: its bytes are frames, not a body, and how it ended is in
    // its close codes.
    private void LogWebSocket(HttpContext context, ProxyExchange exchange, WebSocketSession webSocket, double? upstreamTtfb, long start, KeyAttempt? key)
        => ProxyLog.WebSocketAccess(
            logger,
            context.Request.Method,
            LoggedPath(context),
            RouteName(exchange.Route),
            StatusCodes.Status101SwitchingProtocols,
            LogValue.Milliseconds(upstreamTtfb),
            LogValue.Milliseconds(Milliseconds(start, Stopwatch.GetTimestamp())),
            webSocket.BytesFromClient,
            webSocket.BytesToClient,
            ClosedByName(webSocket.ClosedBy),
            CloseCode(webSocket.ClientCloseCode),
            CloseCode(webSocket.UpstreamCloseCode),
            LogValue.Text(exchange.Subject),
            LogValue.Text(key?.Served?.Label),
            LogValue.Integer(key?.Tried > 0 ? key.Tried : null),
            LogValue.Text(exchange.Model),
            new UsageLogValue(webSocket.Usage.Total),
            context.TraceIdentifier);

    private static LogValue CloseCode(int code) => LogValue.Integer(code == 0 ? null : code);

    private static string ClosedByName(ClosedBy closedBy) => closedBy switch
    {
        ClosedBy.Client => "client",
        ClosedBy.Upstream => "upstream",
        ClosedBy.Proxy => "proxy",
        ClosedBy.ClientGone => "client_gone",
        ClosedBy.UpstreamGone => "upstream_gone",
        _ => "-",
    };

    // The path as the client sent it, without the query: Kestrel's decoded, dot-segment-resolved Path would hide
    // what a refused request really asked for. Escaped in the text line, so no path can start a forged line.
    private static LogValue LoggedPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return LogValue.Path(context.Request.Path.Value ?? "/");
        }

        var query = raw.IndexOf('?');
        return LogValue.Path(query < 0 ? raw : raw[..query]);
    }

    private static double Milliseconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private static string RouteName(RouteClass? route) => route switch
    {
        RouteClass.Generation => "generation",
        RouteClass.PassThrough => "pass-through",
        RouteClass.Realtime => "realtime",
        RouteClass.Health => "health",
        RouteClass.Rejected => "rejected",
        _ => "local",
    };
}
