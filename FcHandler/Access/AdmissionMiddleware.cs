using FcHandler.Errors;
using FcHandler.Keys;
using FcHandler.Logging;
using FcHandler.Proxy;
using FcHandler.Proxy.WebSockets;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Access;

/// <summary>
/// Between CORS and the forwarder: decides whether a request for a forwarded route may go upstream, and with which
/// key. Preflights never get here (CORS answers them); <c>/healthz</c> and paths the proxy does not serve pass
/// straight on, so a client with a wrong base URL gets the 404 that tells it so rather than a 401 that does not.
/// Everything here happens before the upstream hears of the request.
/// </summary>
internal sealed class AdmissionMiddleware(
    RequestDelegate next, AccessOptions options, AccessGate gate, RequestBodyBuffer bodies, ILogger<AdmissionMiddleware> logger)
{
    private const string AzureKeyHeader = "api-key";
    private const string OrganizationHeader = "OpenAI-Organization";
    private const string ProjectHeader = "OpenAI-Project";

    private readonly string? _serverAuthorization = options.Enabled ? options.ServerKeys[0].Authorization : null;

    public Task InvokeAsync(HttpContext context)
    {
        var route = RouteTable.Classify(context.Request.Path.Value);
        return route is RouteClass.Generation or RouteClass.PassThrough or RouteClass.Realtime ? AdmitAsync(context, route) : next(context);
    }

    private async Task AdmitAsync(HttpContext context, RouteClass route)
    {
        var request = context.Request;
        var exchange = context.Features.Get<ProxyExchange>();
        exchange?.Route = route; // so a refusal's access line names the route it asked for, not "local"

        // 1. The token, from the headers alone: an anonymous client never gets its body read. A browser's WebSocket
        //    cannot set Authorization and brings it in its subprotocol list instead.
        AccessGrant? grant = null;
        var webSocket = WebSocketForwarder.IsRequested(request);
        var subprotocolToken = webSocket && request.Headers.Authorization.Count == 0
            ? SubprotocolCredential.Find(request.Headers.SecWebSocketProtocol)
            : null;
        if (_serverAuthorization is not null)
        {
            if (!gate.TryAdmitToken(subprotocolToken ?? AccessGate.BearerToken(request.Headers.Authorization), out grant, out var refused))
            {
                await DenyAsync(context, refused);
                return;
            }

            exchange?.Subject = grant.Subject;
            context.Features.Set(grant);
            if (!grant.AllowsRoute(route))
            {
                await DenyAsync(context, ProxyError.RouteNotAllowed());
                return;
            }
        }

        // 2. The whole body, within the limit: too large, malformed or stalled is answered here, and so is a body the
        //    instance has no room for; a client that leaves halfway is not answered at all.
        if (!await bodies.BufferAsync(context))
        {
            return;
        }

        // 3. The model: for the access line on generation and realtime routes, and for a model-scoped token, which it
        //    must satisfy (refused, never rewritten). The read stops at the top-level "model".
        if (route is RouteClass.Generation or RouteClass.Realtime || grant is { HasModelScope: true })
        {
            var (refusal, model) = await ReadModelAsync(grant, route, request, context.RequestAborted);
            exchange?.Model = model;
            if (refusal is { } error)
            {
                await DenyAsync(context, error);
                return;
            }
        }

        // 4. The server's key replaces the client's token; the transformer forwards Authorization as it finds it.
        //    api-key (Azure's key header) would be a second, client-chosen credential: dropped. So are the
        //    organization and project headers: with the operator's key, the operator decides who is billed, not the
        //    client (https://platform.openai.com/docs/api-reference/authentication).
        //    An ephemeral key is OpenAI's own credential and stays; a token in the subprotocol list never goes upstream.
        if (grant is not null)
        {
            if (!grant.ForwardsClientKey)
            {
                // The first key; with a pool, the forwarder's key pool picks the subject's (KeyPoolHandler).
                request.Headers.Authorization = _serverAuthorization;
                context.Features.Set(new KeyAttempt(grant.Subject));
            }

            if (webSocket)
            {
                request.Headers.SecWebSocketProtocol = SubprotocolCredential.Without(
                    request.Headers.SecWebSocketProtocol, grant.ForwardsClientKey ? subprotocolToken : null);
            }

            request.Headers.Remove(AzureKeyHeader);
            request.Headers.Remove(OrganizationHeader);
            request.Headers.Remove(ProjectHeader);
        }

        await next(context);
    }

    // The model named, and why the request is refused if it is: a model-scoped token must allow it, and a multipart body
    // that can be read two ways is refused outright (the access line, a scope and a model's limit all depend on which
    // model it names). A generation request with a body must name an allowed model; any request that names one must
    // name an allowed one. Requests without a body (GET /v1/responses/{id}) name none and pass. The Realtime API names
    // its model in the query (its WebSocket, beta WebRTC); a WebSocket's messages are not read here, so one without
    // ?model= (a transcription session, a call_id) names none a model-scoped token could allow. Its client secrets and
    // calls take the model from the body's session (https://platform.openai.com/docs/api-reference/realtime-sessions,
    // https://developers.openai.com/api/reference/ruby/resources/realtime/subresources/calls/methods/create), so there the body must name an allowed one,
    // whatever the query says.
    private static async Task<(ProxyError? Refusal, string? Model)> ReadModelAsync(
        AccessGrant? grant, RouteClass route, HttpRequest request, CancellationToken cancellationToken)
    {
        var scope = grant is { HasModelScope: true } ? grant : null;
        var webSocket = WebSocketForwarder.IsRequested(request);
        string? queryModel = null;
        if ((webSocket || route == RouteClass.Realtime) && request.Query.TryGetValue("model", out var models))
        {
            if (models is not [{ Length: > 0 } model])
            {
                return (scope is null ? null : ProxyError.ModelNotAllowed(), null);
            }

            if (scope is not null && !scope.AllowsModel(model))
            {
                return (ProxyError.ModelNotAllowed(), model);
            }

            queryModel = model;
        }

        if (webSocket)
        {
            return (scope is null || queryModel is not null ? null : ProxyError.ModelNotAllowed(), queryModel);
        }

        var read = await ModelReader.ReadNamedAsync(request, cancellationToken, realtime: route == RouteClass.Realtime, strict: scope is not null);
        var named = read.Model ?? queryModel;
        if (read.Ambiguity is { } ambiguity)
        {
            return (ProxyError.AmbiguousMultipart(ambiguity), named);
        }

        var allowed = scope is null || read.Outcome switch
        {
            ModelReader.Outcome.Found => scope.AllowsModel(read.Model!),
            ModelReader.Outcome.None => !TakesModelFromBody(request) && (queryModel is not null || route == RouteClass.PassThrough || request.ContentLength is null or 0),
            _ => false,
        };
        return (allowed ? null : ProxyError.ModelNotAllowed(), named);
    }

    private static bool TakesModelFromBody(HttpRequest request)
        => HttpMethods.IsPost(request.Method)
            && request.Path.Value is "/v1/realtime/client_secrets" or "/v1/realtime/calls";

    private Task DenyAsync(HttpContext context, ProxyError error)
    {
        ProxyLog.AccessDenied(logger, error.Code, context.TraceIdentifier);
        return ErrorWriter.WriteAsync(context, error);
    }
}
