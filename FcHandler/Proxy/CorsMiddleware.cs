using FcHandler.Errors;
using FcHandler.Logging;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Proxy;

/// <summary>
/// Puts CORS headers on every response, whoever writes it (forwarded, local, error), by adding them as the response
/// starts; answers OPTIONS preflights without the upstream; refuses a WebSocket from an origin that is not allowed,
/// which browsers leave to the server.
/// </summary>
internal sealed class CorsMiddleware(RequestDelegate next, CorsPolicy policy, ILogger<CorsMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            policy.ApplyTo(context.Request, context.Response);
            policy.AnswerPreflight(context.Request, context.Response);
            return Task.CompletedTask;
        }

        context.Response.OnStarting(
            static state =>
            {
                var (httpContext, corsPolicy) = ((HttpContext, CorsPolicy))state;
                corsPolicy.ApplyTo(httpContext.Request, httpContext.Response);
                return Task.CompletedTask;
            },
            (context, policy));

        if (WebSocketForwarder.IsRequested(context.Request) && !policy.AllowsWebSocketFrom(context.Request))
        {
            return RefuseWebSocketAsync(context);
        }

        return next(context);
    }

    private Task RefuseWebSocketAsync(HttpContext context)
    {
        context.Features.Get<ProxyExchange>()?.Route = RouteTable.Classify(context.Request.Path.Value);
        var error = ProxyError.OriginNotAllowed();
        ProxyLog.AccessDenied(logger, error.Code, context.TraceIdentifier);
        return ErrorWriter.WriteAsync(context, error);
    }
}
