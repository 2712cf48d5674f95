using System.Text.Json;
using FcHandler.Errors;
using FcHandler.Json;
using FcHandler.Logging;
using FcHandler.Proxy.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Proxy;

/// <summary>
/// The end of the request path: checks the target, classifies the route, then answers locally or forwards.
/// </summary>
internal sealed class ProxyEndpoint(
    IHttpForwarder forwarder,
    UpstreamClient upstream,
    ProxyTransformer transformer,
    WebSocketForwarder webSockets,
    ILogger<ProxyEndpoint> logger)
{
    private static readonly HealthStatus Healthy = new("ok");

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var exchange = context.Features.Get<ProxyExchange>();

        // 1. The raw target, before Kestrel's decoding hides anything.
        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var problem = RequestTarget.Check(rawTarget);
        if (problem != TargetProblem.None)
        {
            exchange?.Route = RouteClass.Rejected;
            return ErrorWriter.WriteAsync(
                context, problem == TargetProblem.NotOriginForm ? ProxyError.NotOriginForm() : ProxyError.PathTraversal());
        }

        // 2. The route class decides everything that follows.
        var route = RouteTable.Classify(request.Path.Value);
        exchange?.Route = route;

        return route switch
        {
            RouteClass.Health => HealthAsync(context),
            RouteClass.Generation or RouteClass.PassThrough or RouteClass.Realtime => ForwardAsync(context, route),
            _ => ErrorWriter.WriteAsync(context, ProxyError.UnknownUrl(request.Method, request.Path.Value ?? "/")),
        };
    }

    private static Task HealthAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            return ErrorWriter.WriteAsync(context, ProxyError.MethodNotAllowed(context.Request.Method));
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, Healthy, ProxyJsonContext.Web.HealthStatus, context.RequestAborted);
    }

    private async Task ForwardAsync(HttpContext context, RouteClass route)
    {
        // 3. Methods that make no sense through an API proxy: CONNECT would tunnel elsewhere, TRACE would reflect
        //    headers back. YARP refuses CONNECT too, with an exception.
        var method = context.Request.Method;
        if (HttpMethods.IsConnect(method) || HttpMethods.IsTrace(method))
        {
            await ErrorWriter.WriteAsync(context, ProxyError.MethodNotAllowed(method));
            return;
        }

        // 4. Forward. YARP streams both bodies, applies the route's idle timeout, and cancels the upstream request
        //    as soon as the client goes away. A WebSocket, on any route, is relayed until one side closes it.
        var error = await SendAsync(context, route);
        var fault = UpstreamFault.Of(error, context.Features.Get<IForwarderErrorFeature>()?.Exception);

        // 5. A request that cannot have reached the upstream (its name did not resolve, the connection or the TLS
        //    handshake failed) goes once more: any method is safe to repeat then, and the body is whole and unread.
        //    Never twice, and never a request that may have arrived.
        var attempts = 1;
        if (fault is { Retryable: true } first && TryPrepareRetry(context))
        {
            attempts = 2;
            error = await SendAsync(context, route);
            fault = UpstreamFault.Of(error, context.Features.Get<IForwarderErrorFeature>()?.Exception);
            if (error == ForwarderError.None)
            {
                ProxyLog.UpstreamRetried(logger, first.Code, first.Reason, context.TraceIdentifier);
            }
        }

        if (error == ForwarderError.None || AnsweredInFull(context, error))
        {
            return;
        }

        // 6. A failed forward, in one log line: an OpenAI-shaped error if nothing was sent yet, else an abort (YARP has
        //    already reset the client connection, so a truncated stream never looks complete).
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (fault is { } named)
        {
            var stage = context.Response.HasStarted ? "mid-response, client connection aborted" : "before a response";
            ProxyLog.UpstreamFault(logger, named.Code, stage, attempts, named.Reason, context.TraceIdentifier);
        }
        else
        {
            ProxyLog.ForwardFailed(logger, error, exception?.GetType().Name ?? "none", exception?.Message ?? "", context.TraceIdentifier);
        }

        if (ForwarderErrorMap.ToProxyError(context, error, exception, fault) is { } proxyError)
        {
            await ErrorWriter.WriteAsync(context, proxyError);
        }
    }

    // YARP reports a request-body error even after it has relayed the whole response, when the copy of the request body
    // ended badly once the upstream had answered (its last step, "reported as low severity"): it leaves that response to
    // finish. A body error that cut a response short it reports with an AggregateException, after resetting the client
    // itself. The client of the first has its whole answer; ending its connection now would cut off the response's last
    // chunk, and an SDK would send the request, and pay for it, again.
    private static bool AnsweredInFull(HttpContext context, ForwarderError error)
        => error is ForwarderError.RequestBodyClient or ForwarderError.RequestBodyDestination or ForwarderError.RequestBodyCanceled
            && context.Response.HasStarted
            && !context.RequestAborted.IsCancellationRequested
            && context.Features.Get<IForwarderErrorFeature>()?.Exception is not AggregateException;

    private ValueTask<ForwarderError> SendAsync(HttpContext context, RouteClass route)
        => WebSocketForwarder.IsRequested(context.Request)
            ? webSockets.ForwardAsync(context)
            : forwarder.SendAsync(context, upstream.DestinationPrefix, upstream.Invoker, upstream.ConfigFor(route), transformer);

    // YARP leaves its failure on the context (a status, the error feature); a second forward needs them gone. The
    // retried faults happen before a connection exists, so the body was never read; rewinding it is belt and braces.
    // A WebSocket handshake is not retried: its relay has already taken over the connection's upgrade.
    private static bool TryPrepareRetry(HttpContext context)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested || WebSocketForwarder.IsRequested(context.Request))
        {
            return false;
        }

        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }

        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        return true;
    }
}
