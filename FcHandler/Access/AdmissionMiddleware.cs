using FcHandler.Errors;
using FcHandler.Logging;
using FcHandler.Proxy;
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

    private readonly string? _serverAuthorization = options.ServerKey is null ? null : "Bearer " + options.ServerKey;

    public Task InvokeAsync(HttpContext context)
    {
        var route = RouteTable.Classify(context.Request.Path.Value);
        return route is RouteClass.Generation or RouteClass.PassThrough ? AdmitAsync(context, route) : next(context);
    }

    private async Task AdmitAsync(HttpContext context, RouteClass route)
    {
        var request = context.Request;
        var exchange = context.Features.Get<ProxyExchange>();
        exchange?.Route = route; // so a refusal's access line names the route it asked for, not "local"

        // 1. The token, from the headers alone: an anonymous client never gets its body read.
        AccessGrant? grant = null;
        if (_serverAuthorization is not null)
        {
            if (!gate.TryAdmit(request.Headers.Authorization, out grant, out var refused))
            {
                await DenyAsync(context, refused);
                return;
            }

            exchange?.Subject = grant.Subject;
            if (!grant.AllowsRoute(route))
            {
                await DenyAsync(context, ProxyError.RouteNotAllowed());
                return;
            }
        }

        // 2. The whole body, within the limit: too large, malformed or stalled is answered here, and so is a body the
        //    instance has no room for.
        if (await bodies.BufferAsync(context) is { } bodyError)
        {
            await ErrorWriter.WriteAsync(context, bodyError);
            return;
        }

        // 3. The model, for a model-scoped token: refused, never rewritten.
        if (grant is { HasModelScope: true } && !await ModelAllowedAsync(grant, route, request, context.RequestAborted))
        {
            await DenyAsync(context, ProxyError.ModelNotAllowed());
            return;
        }

        // 4. The server's key replaces the client's token; the transformer forwards Authorization as it finds it.
        //    api-key (Azure's key header) would be a second, client-chosen credential: dropped. So are the
        //    organization and project headers: with the operator's key, the operator decides who is billed, not the
        //    client (https://platform.openai.com/docs/api-reference/authentication).
        if (_serverAuthorization is not null)
        {
            request.Headers.Authorization = _serverAuthorization;
            request.Headers.Remove(AzureKeyHeader);
            request.Headers.Remove(OrganizationHeader);
            request.Headers.Remove(ProjectHeader);
        }

        await next(context);
    }

    // A generation request with a body must name an allowed model; any request that names one must name an allowed
    // one. Requests without a body (GET /v1/responses/{id}) name none and pass.
    private static async Task<bool> ModelAllowedAsync(AccessGrant grant, RouteClass route, HttpRequest request, CancellationToken cancellationToken)
    {
        var (outcome, model) = await ModelReader.ReadAsync(request, cancellationToken);
        return outcome switch
        {
            ModelReader.Outcome.Found => grant.AllowsModel(model!),
            ModelReader.Outcome.None => route != RouteClass.Generation || request.ContentLength is null or 0,
            _ => false,
        };
    }

    private Task DenyAsync(HttpContext context, ProxyError error)
    {
        ProxyLog.AccessDenied(logger, error.Code, context.TraceIdentifier);
        return ErrorWriter.WriteAsync(context, error);
    }
}
