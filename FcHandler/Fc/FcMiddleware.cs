using FcHandler.Errors;
using FcHandler.Fc.Events;
using FcHandler.Logging;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Fc;

/// <summary>
/// Outermost step: speaks FC's contract. It unpacks the <see cref="FcContext"/> (whose request id becomes the
/// request's id everywhere, logs and error bodies included), dispatches on <c>x-fc-control-path</c>, prints FC's
/// log markers around each invocation FC sends, and counts requests in flight for the pre-stop hook.
/// https://alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/lifecycle-hooks-for-function-instances-6-1
/// </summary>
internal sealed class FcMiddleware(
    RequestDelegate next,
    FcContextFactory contexts,
    InFlightRequests inFlight,
    IInstanceInitializer[] initializers,
    WebSocketSessions webSockets,
    FcOptions options,
    ILogger<FcMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var fc = contexts.Create(context);
        context.Features.Set(fc);
        context.TraceIdentifier = fc.RequestId;

        switch (fc.ControlPath)
        {
            case FcControlPath.Initialize:
                await InitializeAsync(context, fc);
                return;
            case FcControlPath.PreStop:
                await PreStopAsync(context);
                return;
            case FcControlPath.Other:
                // A hook this version does not implement (FC 2.0's /pre-freeze): any 2xx is success.
                context.Response.StatusCode = StatusCodes.Status200OK;
                return;
        }

        if (!inFlight.TryEnter())
        {
            await RefuseAsync(context, fc);
            return;
        }

        // FC's console groups log lines between these markers; only FC's own calls get them.
        if (fc.FromFc)
        {
            ProxyLog.InvokeStart(logger, fc.RequestId);
        }

        try
        {
            await (fc.ControlPath == FcControlPath.Invoke ? EventInvoker.InvokeAsync(context, next) : next(context));
        }
        finally
        {
            inFlight.Exit();
            if (fc.FromFc)
            {
                ProxyLog.InvokeEnd(logger, fc.RequestId);
            }
        }
    }

    // Draining. An HTTP request is answered after the access log and CORS have run, so the refusal is logged like any
    // answer and a browser can read it; FC's event invocation has neither.
    private Task RefuseAsync(HttpContext context, FcContext fc)
    {
        if (fc.ControlPath == FcControlPath.Invoke)
        {
            return ErrorWriter.WriteAsync(context, ProxyError.ShuttingDown());
        }

        context.Features.Set(new PendingRefusal(ProxyError.ShuttingDown()));
        return next(context);
    }

    private async Task InitializeAsync(HttpContext context, FcContext fc)
    {
        ProxyLog.InitializeStart(logger, fc.RequestId);
        await Task.WhenAll(initializers.Select(initializer => initializer.InitializeAsync(options.WarmupTimeout, context.RequestAborted)));
        ProxyLog.InitializeEnd(logger, fc.RequestId);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private async Task PreStopAsync(HttpContext context)
    {
        // Refuse new work first, then say so: a request arriving after the line must already be refused.
        ProxyLog.PreStopDraining(logger, inFlight.StopAdmitting());
        var remaining = await InstanceDrain.RunAsync(
            inFlight, webSockets, options.PreStopTimeout, count => ProxyLog.PreStopClosingWebSockets(logger, count), context.RequestAborted);
        ProxyLog.PreStopDone(logger, remaining);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }
}
